"""The paper's claims are written once (ipbook.claims.catalog) and decided by one rule set."""
import pytest

from ipbook.claims.catalog import CLAIMS, claim_spec, simplifying_claims
from ipbook.claims.robustness import ROBUSTNESS_CLAIMS, ROBUSTNESS_KEYS
from ipbook.verdicts import CANNOT, DOES_NOT, FAILS, HOLDS, SIMPLIFIES


def test_every_claim_has_one_key_and_the_matrix_names_come_from_the_catalog():
    keys = [c.key for c in CLAIMS]
    assert len(keys) == len(set(keys)) == 18
    assert [k for k, _ in ROBUSTNESS_CLAIMS] == list(ROBUSTNESS_KEYS)
    assert dict(ROBUSTNESS_CLAIMS)["sparse_amp"] == claim_spec("sparse_amp").short == "Sparsity amplifies it (vs shallow)"
    with pytest.raises(KeyError, match="unknown claim 'nope'; known: shallow_simp"):
        claim_spec("nope")


def test_simplifying_claims_apply_all_none_and_amplifies_to_the_judges_verdicts():
    v = {("shallow", "Z"): SIMPLIFIES, ("sparse", "Z"): SIMPLIFIES, ("tied", "Z"): DOES_NOT,
         ("deep", "E1"): DOES_NOT, ("deep", "E2"): SIMPLIFIES, ("deep", "Z"): SIMPLIFIES,
         ("deep", "D1"): CANNOT, ("deep", "D2"): SIMPLIFIES}
    size = {k: 0.5 for k in v} | {("sparse", "Z"): 0.7}
    out = simplifying_claims(v, size)
    assert set(out) == {"shallow_simp", "deep_inner", "deep_outer", "sparse_simp", "sparse_amp", "tied_none"}
    assert out["shallow_simp"] == (HOLDS, [("shallow", "Z")])
    assert out["deep_inner"][0] == CANNOT            # D1 cannot be judged, none of E2, Z, D1 fails
    assert out["deep_outer"] == (FAILS, [("deep", "E1"), ("deep", "D2")])   # D2 simplifies
    assert out["tied_none"][0] == HOLDS
    assert out["sparse_amp"] == (HOLDS, [("sparse", "Z"), ("shallow", "Z")])
    smaller = simplifying_claims(v, size | {("sparse", "Z"): 0.3}, keys=["sparse_amp"])
    assert smaller == {"sparse_amp": (FAILS, [("sparse", "Z"), ("shallow", "Z")])}


def test_the_robustness_matrix_tests_exactly_the_claims_with_a_short_name():
    assert set(ROBUSTNESS_KEYS) == {c.key for c in CLAIMS if c.short}
