"""Numbers of 2^63 or more given to a loader are one clear ValueError, never an
OverflowError, a TypeError from the core's bindings or a value wrapped to a negative one."""

from __future__ import annotations

import numpy as np
import pytest

from archgym import costmodel as cm
from archgym import sparse as S
from archgym import workloads
from archgym.sparse import matrices

BIG = 2**63
FITS = "does not fit 64 bits"


def _layer_k(k):
    return cm.evaluate(cm.Layer(K=k, C=3, Y=8, X=8, R=3, S=3), cm.DATAFLOWS["dla"], cm.Hardware(num_pes=4),
                       constants=cm.confuciux_constants(pes=4, tile=1))


def _batch(k):
    return cm.BatchEvaluator([cm.DATAFLOWS["dla"]]).evaluate(
        layers={"K": k, "C": 64, "Y": 56, "X": 56, "R": 3, "S": 3}, hardware={"num_pes": 64},
        constants=cm.confuciux_constants(pes=64, tile=4))


@pytest.mark.parametrize("call", [
    lambda: _layer_k(BIG),
    lambda: _layer_k(float(BIG)),
    lambda: cm.Hardware(num_pes=BIG).fields(),
    lambda: _batch(np.array([BIG], dtype=np.uint64)),
    lambda: _batch([2**64]),
    lambda: _batch([1e19]),
    lambda: cm.as_int("x", -BIG - 1),
    lambda: S.Precision(value_bits=BIG),
    lambda: S.Precision(bcsr_block=(4, BIG)),
], ids=["layer", "layer-float", "hardware", "batch-uint64", "batch-pyint", "batch-float", "as_int-negative",
        "precision", "bcsr-block"])
def test_python_api_rejects_values_beyond_int64(call):
    with pytest.raises(ValueError, match=FITS):
        call()


def test_largest_int64_is_still_checked_by_the_core_not_wrapped():
    assert cm.as_int("x", BIG - 1) == BIG - 1
    assert cm.as_int_array("x", np.array([BIG - 1], dtype=np.uint64)).tolist() == [BIG - 1]
    with pytest.raises(ValueError, match="num_pes must be in") as err:
        cm.evaluate(cm.Layer(K=4, C=3, Y=8, X=8, R=3, S=3), cm.DATAFLOWS["dla"], cm.Hardware(num_pes=BIG - 1),
                    constants=cm.confuciux_constants(pes=4, tile=1))
    assert str(BIG - 1) in str(err.value)  # the value the user gave, not a wrapped one


def test_dataflow_literal_beyond_int64():
    with pytest.raises(cm.ParseError, match=FITS):
        cm.Dataflow.parse(f"Dataflow {{\n SpatialMap({BIG},1) K;\n}}")


@pytest.mark.parametrize("value", [str(BIG), str(-BIG - 1), "1" + "0" * 30])
def test_workload_csv_values_beyond_int64(tmp_path, value):
    path = tmp_path / "w.csv"
    path.write_text(f"K,C,Y,X,R,S,T,pad\n4,3,8,8,3,3,1,{value}\n")
    with pytest.raises(ValueError, match=f"line 2: column pad: {value} {FITS}"):
        workloads.load_csv(path)


@pytest.mark.parametrize("name", [f"synthetic/uniform_8_0.5_s{BIG}", f"synthetic/banded_{BIG}_2",
                                  f"synthetic/block_16_{BIG}_0.5"])
def test_synthetic_matrix_names_beyond_int64(name):
    with pytest.raises(ValueError, match=FITS):
        matrices.load_matrix(name)
