"""The cosine learning-rate schedule of the final training."""

import pytest

from digit_recognizer.modeling.training import cosine_learning_rate


def test_cosine_schedule_decays_from_the_start_to_one_percent():
    rate = cosine_learning_rate(1e-3, epochs=10)
    rates = [rate(epoch) for epoch in range(10)]
    assert rates[0] == pytest.approx(1e-3) and rates[-1] == pytest.approx(1e-5)
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
