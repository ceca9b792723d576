"""Made from these inputs: the one way the project records what an output was made from, and checks it.

The prepared data set (its `source`), a training (its backup and saved model), the search on record and
each benchmark record say what they were made from as a dict of inputs. Before an output is reused, the
inputs it records are compared with the current ones; `differences` names what changed, the same way
everywhere (`seed 7, now 8; profile.train_epochs 4, now 30; other data files`). A `record` also carries the
inputs' fingerprint, so a hand-edited record is told from an intact one.
"""

from __future__ import annotations

import hashlib
import json

# Written beside the inputs in a record, not part of them.
NOT_INPUTS = ("fingerprint", "weights_sha256")
VALUE_LIMIT = 40  # characters of a value a difference shows


def fingerprint(inputs: dict) -> str:
    """SHA-256 of the inputs as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(inputs: dict) -> dict:
    return {"fingerprint": fingerprint(inputs), **inputs}


def is_intact(found: dict) -> bool:
    """Whether a record's fields are still the ones its fingerprint was made from (none was edited)."""
    return found.get("fingerprint") == fingerprint({k: v for k, v in found.items() if k not in NOT_INPUTS})


def matches(found: dict | None, inputs: dict) -> bool:
    """Whether a record was made from exactly these inputs."""
    return isinstance(found, dict) and found.get("fingerprint") == fingerprint(inputs)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT - 3] + "..."


def _differences(found, inputs: dict, prefix: str) -> list[str]:
    found = found if isinstance(found, dict) else {}
    parts = []
    for key, value in inputs.items():
        old = found.get(key)
        if old == value:
            continue
        if key == "sha256":  # the data files' hashes, by name
            parts.append("other data files")
        elif isinstance(value, dict) and isinstance(old, dict):
            parts += _differences(old, value, f"{prefix}{key}.")
        else:
            parts.append(f"{prefix}{key} {_shown(old)}, now {_shown(value)}")
    return parts


def differences(found: dict | None, inputs: dict, limit: int = 300) -> str:
    """The inputs a recorded set differs from `inputs` in, e.g. `seed 7, now 8`; "" if none. Only the keys
    of `inputs` count: a record may carry more (when it was made, where from)."""
    text = "; ".join(_differences(found, inputs, ""))
    return text if len(text) <= limit else text[:limit - 3] + "..."

