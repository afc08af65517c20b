"""Property tests: labels do not depend on units, offsets, ROI order or reruns."""

import functools

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sfone.classify import label_responses
from sfone.perievent import trace_array
from sfone.simulate.neurons import make_imaging_session

KWARGS = dict(baseline_s=(-300, 0), post_run_s=(0, 600), run_labels=False)


@functools.lru_cache(maxsize=1)
def _session():
    ds, epochs = make_imaging_session(30, fs=2.0, baseline_s=300.0, run_s=120.0, post_s=600.0,
                                      random_state=21)
    traces = trace_array(ds).astype(np.float64).load()  # float32 would round the offsets
    return traces, epochs, label_responses(traces, epochs, **KWARGS)


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(1e-3, 1e3), offset=st.floats(-1e4, 1e4), roi=st.integers(0, 29))
def test_labels_unchanged_by_scaling_and_offsetting_a_trace(scale, offset, roi):
    traces, epochs, reference = _session()
    changed = traces.copy(data=traces.values.copy())
    changed.values[roi] = changed.values[roi] * scale + offset
    result = label_responses(changed, epochs, **KWARGS)
    np.testing.assert_array_equal(result["label"].values, reference["label"].values)
    np.testing.assert_allclose(result["p_value"].values, reference["p_value"].values,
                               rtol=1e-6, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_labels_follow_their_roi_when_rois_are_reordered(seed):
    traces, epochs, reference = _session()
    order = np.random.default_rng(seed).permutation(traces.sizes["roi"])
    result = label_responses(traces.isel(roi=order), epochs, **KWARGS)
    np.testing.assert_array_equal(result["roi"].values, reference["roi"].values[order])
    np.testing.assert_array_equal(result["label"].values, reference["label"].values[order])


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 1000), method=st.sampled_from(["test", "cluster"]),
       null=st.sampled_from(["autocorrelation", "shift"]))
def test_same_random_state_gives_identical_results(seed, method, null):
    traces, epochs, _ = _session()
    first = label_responses(traces, epochs, method=method, null=null, random_state=seed,
                            n_shuffles=200, **KWARGS)
    second = label_responses(traces, epochs, method=method, null=null, random_state=seed,
                             n_shuffles=200, **KWARGS)
    xr.testing.assert_identical(first, second)
