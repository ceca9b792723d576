"""The TensorFlow switches: op determinism on by default, off on request; mixed precision only on a GPU."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import keras, tensorflow as tf
    from digit_recognizer.plumbing import runtime
    from digit_recognizer.modeling import training
    from tensorflow.python.framework import config as tf_config
    deterministic = sys.argv[1] == "1"
    print(runtime.configure(deterministic=deterministic))
    training.set_determinism(7)
    print("OP_DETERMINISM", tf_config.is_op_determinism_enabled())
    print("POLICY", keras.mixed_precision.global_policy().name)
""")


@pytest.mark.parametrize("deterministic, said, enabled", [("1", "op determinism on", True),
                                                          ("0", "op determinism off", False)])
def test_op_determinism_follows_the_switch(tmp_path, deterministic, said, enabled):
    script = tmp_path / "switch.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), deterministic], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert said in done.stdout and f"OP_DETERMINISM {enabled}" in done.stdout
    assert "POLICY float32" in done.stdout


def test_mixed_precision_without_a_gpu_is_refused_with_the_setting_named():
    from digit_recognizer.plumbing import runtime

    if runtime.gpus():
        pytest.skip("a GPU is visible")
    with pytest.raises(ValueError, match="mixed_precision needs a GPU"):
        runtime.configure(mixed_precision=True)
