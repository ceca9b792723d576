"""A stand-in for Colab's `google.colab` package, on a kernel's PYTHONPATH in tests: only `userdata`."""
