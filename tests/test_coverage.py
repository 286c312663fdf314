"""Coverage relation: the sparse matrix against a naive dense computation."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import sparse

from geodata.errors import CoverageTooLargeError, OptionError
from planner.coverage.disc import baseline_quality, coverage_matrix, estimate_coverage_bytes
from planner.solver.problem import CoverageProblem


def naive_quality(demand_xy, site_xy, radius, bands=None):
    """Dense n x m qualities by brute force: every pair, nearest band wins."""
    demand_xy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    site_xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    out = np.zeros((len(demand_xy), len(site_xy)))
    for i, (px, py) in enumerate(demand_xy):
        for j, (sx, sy) in enumerate(site_xy):
            d = np.hypot(px - sx, py - sy)
            if d > radius:
                continue
            if not bands:
                out[i, j] = 1.0
                continue
            for reach, q in sorted(bands):
                if d <= reach:
                    out[i, j] = q
                    break
    return out


def _instance(seed: int, n: int, m: int, side: float = 1000.0):
    rng = np.random.default_rng(seed)
    origin = np.array([412_000.0, 3_697_000.0])
    return origin + rng.uniform(0, side, (n, 2)), origin + rng.uniform(0, side, (m, 2))


def _dense(matrix) -> np.ndarray:
    return sparse.csc_array(matrix).toarray()


@pytest.mark.parametrize("seed", range(8))
def test_matches_naive_on_random_instances(seed):
    demand, sites = _instance(seed, 150, 40)
    radius = [50.0, 120.0, 300.0, 75.5][seed % 4]
    got = coverage_matrix(demand, sites, radius)
    assert got.shape == (150, 40)
    assert sparse.issparse(got)
    np.testing.assert_array_equal(_dense(got), naive_quality(demand, sites, radius))
    assert got.nnz == int((naive_quality(demand, sites, radius) > 0).sum())


def test_points_exactly_at_the_radius_are_covered():
    site = np.array([[1000.0, 2000.0]])
    # 3-4-5 triangles: distance exactly 5 * k in floating point.
    demand = np.array([
        [1000.0 + 30.0, 2000.0 + 40.0],   # exactly 50
        [1000.0 - 50.0, 2000.0],          # exactly 50 on the axis
        [1000.0, 2000.0 + 50.0],          # exactly 50 on the axis
        [1000.0 + 50.0, 2000.0 + 1e-6],   # just beyond
        [1000.0 + 40.0, 2000.0 - 30.0],   # exactly 50
    ])
    got = _dense(coverage_matrix(demand, site, 50.0))[:, 0]
    np.testing.assert_array_equal(got, [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(got, naive_quality(demand, site, 50.0)[:, 0])


def test_duplicate_points_and_sites():
    demand, sites = _instance(3, 40, 10)
    demand = np.vstack([demand, demand[:10]])
    sites = np.vstack([sites, sites[:3]])
    got = _dense(coverage_matrix(demand, sites, 200.0))
    np.testing.assert_array_equal(got, naive_quality(demand, sites, 200.0))
    # duplicates get identical rows and columns, each stored once (no summed duplicates)
    np.testing.assert_array_equal(got[40:], got[:10])
    np.testing.assert_array_equal(got[:, 10:], got[:, :3])
    assert got.max() <= 1.0


@pytest.mark.parametrize(("n", "m"), [(0, 5), (5, 0), (0, 0)])
def test_empty_inputs_give_an_empty_matrix_of_the_right_shape(n, m):
    demand, sites = _instance(1, n, m)
    got = coverage_matrix(demand.reshape(n, 2), sites.reshape(m, 2), 100.0)
    assert got.shape == (n, m)
    assert got.nnz == 0


def test_nothing_within_reach_gives_zero_nonzeros():
    demand = np.array([[0.0, 0.0], [10.0, 0.0]])
    sites = np.array([[1000.0, 1000.0]])
    got = coverage_matrix(demand, sites, 100.0)
    assert got.shape == (2, 1)
    assert got.nnz == 0


@pytest.mark.parametrize("seed", range(3))
def test_shapely_points_and_xy_give_identical_matrices(seed):
    demand, sites = _instance(seed, 120, 30)
    a = coverage_matrix(demand, sites, 150.0)
    b = coverage_matrix(shapely.points(demand), shapely.points(sites), 150.0)
    c = coverage_matrix(shapely.points(demand), sites, 150.0)
    for other in (b, c):
        assert other.shape == a.shape
        np.testing.assert_array_equal(other.indptr, a.indptr)
        np.testing.assert_array_equal(other.indices, a.indices)
        np.testing.assert_array_equal(other.data, a.data)


def test_decay_bands_quality_by_hand():
    site = np.array([[0.0, 0.0]])
    demand = np.array([[10.0, 0.0], [25.0, 0.0], [30.0, 0.0], [49.0, 0.0], [60.0, 0.0],
                       [75.0, 0.0], [75.01, 0.0], [0.0, 0.0]])
    bands = ((25.0, 1.0), (50.0, 0.6), (75.0, 0.3))
    got = _dense(coverage_matrix(demand, site, 75.0, bands=bands))[:, 0]
    np.testing.assert_allclose(got, [1.0, 1.0, 0.6, 0.6, 0.3, 0.3, 0.0, 1.0])


def test_decay_bands_given_out_of_order_give_the_same_matrix():
    demand, sites = _instance(5, 200, 20)
    bands = ((40.0, 1.0), (80.0, 0.5), (120.0, 0.25))
    a = _dense(coverage_matrix(demand, sites, 120.0, bands=bands))
    b = _dense(coverage_matrix(demand, sites, 120.0, bands=tuple(reversed(bands))))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, naive_quality(demand, sites, 120.0, bands))
    assert set(np.unique(a)) <= {0.0, 0.25, 0.5, 1.0}
    assert {0.25, 0.5, 1.0} <= set(np.unique(a))


@pytest.mark.parametrize(
    "bands",
    [
        ((0.0, 1.0),),                    # distance 0
        ((-5.0, 1.0),),                   # negative distance
        ((150.0, 1.0),),                  # beyond the radius
        ((50.0, 0.0),),                   # quality 0
        ((50.0, 1.5),),                   # quality above 1
        ((50.0, -0.2),),                  # negative quality
        ((50.0, 0.5), (100.0, 0.9)),      # quality rises with distance
        ((float("nan"), 1.0),),
        ((50.0, float("nan")),),
    ],
)
def test_invalid_bands_raise_option_error(bands):
    demand, sites = _instance(0, 10, 3)
    with pytest.raises(OptionError, match="--decay"):
        coverage_matrix(demand, sites, 100.0, bands=bands)


@pytest.mark.parametrize("radius", [0.0, -1.0, float("nan"), float("inf"), -float("inf")])
def test_bad_radius_raises_option_error(radius):
    demand, sites = _instance(0, 10, 3)
    with pytest.raises(OptionError, match="--radius"):
        coverage_matrix(demand, sites, radius)


def test_bad_radius_raises_even_on_empty_input():
    with pytest.raises(OptionError, match="--radius"):
        coverage_matrix(np.empty((0, 2)), np.empty((0, 2)), 0.0)


def test_count_is_exact_before_the_matrix_is_built():
    demand, sites = _instance(11, 20_000, 9_000, side=5_000.0)
    nnz, nbytes = estimate_coverage_bytes(demand, sites, 100.0)
    true = coverage_matrix(demand, sites, 100.0).nnz
    assert true > 10_000
    assert nnz == true
    assert nbytes > nnz  # bytes scale with pairs, several bytes each


@pytest.mark.parametrize("seed", range(4))
def test_matches_naive_when_sites_are_spread_far_wider_than_the_reach(seed):
    # Few sites over a huge area: the grid cells grow wider than the reach
    # (CELLS_PER_SITE), clusters of points and sites sit in single cells.
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2_000_000.0, (3, 2))
    demand = np.vstack([c + rng.normal(0, 80.0, (60, 2)) for c in centres])
    sites = np.vstack([c + rng.normal(0, 80.0, (5, 2)) for c in centres])
    got = coverage_matrix(demand, sites, 90.0)
    np.testing.assert_array_equal(_dense(got), naive_quality(demand, sites, 90.0))


def test_points_on_cell_edges_and_outside_the_site_extent():
    # Sites on a line (zero-height extent), points on the grid lines, far beyond the
    # extent, and exactly one reach outside it.
    sites = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [300.0, 0.0]])
    xs = np.arange(-150.0, 451.0, 50.0)
    demand = np.array([(x, y) for x in xs for y in (-100.0, -50.0, 0.0, 50.0, 100.0, 100.5)])
    for radius in (50.0, 100.0, 99.99, 250.0):
        got = coverage_matrix(demand, sites, radius)
        np.testing.assert_array_equal(_dense(got), naive_quality(demand, sites, radius))


def test_one_site_and_non_finite_points():
    demand = np.array([[0.0, 0.0], [np.nan, 5.0], [3.0, np.inf], [30.0, 40.0], [1e300, -1e300],
                       [-1e19, 0.0], [0.0, 1e19]])
    got = _dense(coverage_matrix(demand, np.array([[0.0, 0.0]]), 50.0))[:, 0]
    np.testing.assert_array_equal(got, [1, 0, 0, 1, 0, 0, 0])


def test_columns_are_sorted_and_canonical():
    demand, sites = _instance(5, 3_000, 400)
    got = coverage_matrix(demand, sites, 120.0)
    assert got.format == "csc"
    assert got.has_sorted_indices
    check = got.copy()
    check.sum_duplicates()
    assert check.nnz == got.nnz


def test_same_matrix_every_time():
    demand, sites = _instance(6, 5_000, 600)
    a, b = coverage_matrix(demand, sites, 150.0), coverage_matrix(demand, sites, 150.0)
    for name in ("data", "indices", "indptr"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes()


def test_estimate_equals_the_built_matrix_on_a_small_instance():
    demand, sites = _instance(2, 500, 300)
    nnz, _ = estimate_coverage_bytes(demand, sites, 150.0)
    assert nnz == coverage_matrix(demand, sites, 150.0).nnz


def test_estimate_of_empty_inputs_is_zero():
    assert estimate_coverage_bytes(np.empty((0, 2)), np.ones((3, 2)), 10.0) == (0, 0)
    assert estimate_coverage_bytes(np.ones((3, 2)), np.empty((0, 2)), 10.0) == (0, 0)


def test_too_large_raises_with_advice():
    demand, sites = _instance(4, 500, 100)
    with pytest.raises(CoverageTooLargeError) as info:
        coverage_matrix(demand, sites, 300.0, max_bytes=1024)
    message = str(info.value)
    assert "smaller --radius" in message
    assert "coarser demand" in message
    assert isinstance(info.value, ValueError)


def test_enough_memory_builds_the_matrix():
    demand, sites = _instance(4, 500, 100)
    _, need = estimate_coverage_bytes(demand, sites, 300.0)
    got = coverage_matrix(demand, sites, 300.0, max_bytes=need)
    assert got.nnz > 0


# ---------------------------------------------------------------- CoverageProblem


def test_from_matrix_builds_matching_csc_and_csr():
    dense = np.array([[1.0, 0.0, 0.5], [0.0, 0.0, 0.0], [0.25, 1.0, 0.0]])
    p = CoverageProblem.from_matrix(dense, np.array([1.0, 2.0, 3.0]))
    assert (p.n_demand, p.n_sites) == (3, 3)
    np.testing.assert_array_equal(p.csc.toarray(), dense)
    np.testing.assert_array_equal(p.csr.toarray(), dense)
    assert p.csc.nnz == 4  # zeros are not stored
    np.testing.assert_array_equal(p.baseline, np.zeros(3))
    assert not p.binary


def test_from_matrix_drops_explicit_zeros():
    m = sparse.csc_array((np.array([1.0, 0.0]), (np.array([0, 1]), np.array([0, 0]))), shape=(2, 1))
    p = CoverageProblem.from_matrix(m, np.ones(2))
    assert p.csc.nnz == 1
    assert p.binary


def test_from_matrix_rejects_wrong_weights():
    with pytest.raises(OptionError, match="weights"):
        CoverageProblem.from_matrix(np.eye(3), np.ones(4))


@pytest.mark.parametrize("bad", [1.5, -0.5])
def test_from_matrix_rejects_qualities_outside_unit_interval(bad):
    with pytest.raises(OptionError, match="coverage"):
        CoverageProblem.from_matrix(np.array([[1.0, bad]]), np.ones(1))


def test_from_matrix_rejects_a_baseline_of_the_wrong_length():
    with pytest.raises(OptionError):
        CoverageProblem.from_matrix(np.eye(3), np.ones(3), baseline=np.zeros(4))


def test_best_quality_and_value_by_hand():
    dense = np.array([
        [1.0, 0.5, 0.0],
        [0.3, 0.6, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.2, 0.0],
    ])
    w = np.array([1.0, 2.0, 4.0, 8.0])
    base = np.array([0.0, 0.7, 0.0, 0.1])
    p = CoverageProblem.from_matrix(dense, w, baseline=base)
    np.testing.assert_allclose(p.best_quality(np.array([], dtype=np.int64)), base)
    np.testing.assert_allclose(p.best_quality(np.array([0])), [1.0, 0.7, 0.0, 0.1])
    np.testing.assert_allclose(p.best_quality(np.array([0, 1])), [1.0, 0.7, 0.0, 0.2])
    np.testing.assert_allclose(p.best_quality(np.array([1, 2])), [0.5, 0.7, 1.0, 0.2])
    assert p.value(p.best_quality(np.array([1, 2]))) == pytest.approx(0.5 + 1.4 + 4.0 + 1.6)
    assert p.value(base) == pytest.approx(1.4 + 0.8)
    # baseline is not modified by best_quality
    np.testing.assert_array_equal(p.baseline, base)


@pytest.mark.parametrize("seed", range(5))
def test_best_quality_matches_dense_max(seed):
    rng = np.random.default_rng(seed)
    dense = rng.uniform(0, 1, (30, 8)) * (rng.uniform(0, 1, (30, 8)) < 0.3)
    w = rng.gamma(2.0, 1.0, 30)
    base = rng.uniform(0, 0.5, 30) * (rng.uniform(0, 1, 30) < 0.4)
    p = CoverageProblem.from_matrix(dense, w, baseline=base)
    chosen = rng.choice(8, 3, replace=False)
    want = np.maximum(base, dense[:, chosen].max(axis=1))
    np.testing.assert_allclose(p.best_quality(chosen), want)
    assert p.value(p.best_quality(chosen)) == pytest.approx(float(w @ want))


def test_baseline_quality_is_the_best_existing_camera():
    demand = np.array([[0.0, 0.0], [40.0, 0.0], [90.0, 0.0], [500.0, 0.0]])
    cams = np.array([[0.0, 0.0], [100.0, 0.0]])
    bands = ((20.0, 1.0), (100.0, 0.5))
    got = baseline_quality(demand, cams, 100.0, bands=bands)
    np.testing.assert_allclose(got, [1.0, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(baseline_quality(demand, np.empty((0, 2)), 100.0), np.zeros(4))
