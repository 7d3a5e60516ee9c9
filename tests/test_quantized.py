"""Exact information of a quantized layer by counting codes."""
import math

import pytest
import torch

from ipbook.estimators.quantized import code_entropy, code_information


def test_distinct_codes_give_log2_n_and_one_code_gives_zero():
    assert code_entropy(torch.arange(64).reshape(64, 1)) == pytest.approx(math.log2(64))
    assert code_entropy(torch.zeros(64, 3)) == 0.0


def test_the_entropy_is_the_textbook_formula_of_the_code_counts():
    codes = torch.tensor([[0, 1]] * 5 + [[1, 1]] * 3 + [[2, 0]] * 2)
    p = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    assert code_entropy(codes) == pytest.approx(float(-(p * torch.log2(p)).sum()), abs=1e-12)


def test_labels_that_the_code_determines_give_i_ty_h_y_and_a_code_blind_to_them_zero():
    y = torch.arange(40) % 4
    assert code_information(y[:, None], y)["i_ty"] == pytest.approx(2.0)                 # T = Y
    blind = code_information((torch.arange(40) // 10)[:, None], torch.arange(40) % 2)  # T independent of Y
    assert blind["i_ty"] == pytest.approx(0.0, abs=1e-12) and blind["h_t"] == pytest.approx(2.0)


def test_labels_of_another_length_or_fractional_get_one_line():
    with pytest.raises(ValueError, match="one entry per code; got 3 labels for 4 codes"):
        code_information(torch.zeros(4, 1), [0, 1, 1])
    with pytest.raises(ValueError, match="class indices"):
        code_information(torch.zeros(4, 1), [0.5, 1, 1, 0])
