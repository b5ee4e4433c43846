"""The client against a live service, compared with scipy (and astropy for FITS and NaN-aware convolution)."""
import gzip
import os
import re

import numpy as np
import pytest

import convservice

scipy_signal = pytest.importorskip("scipy.signal", reason="the comparisons need scipy (apt-get install python3-scipy)")

rng = np.random.default_rng(15)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
def test_convolve2d_every_mode_and_boundary_equals_scipy(client, mode, boundary):
    image, kernel = rng.normal(size=(17, 23)), rng.normal(size=(4, 3))
    got = client.convolve2d(image, kernel, mode=mode, boundary=boundary, fillvalue=1.5)
    want = scipy_signal.convolve2d(image, kernel, mode=mode, boundary=boundary, fillvalue=1.5)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("stride", [5, (2, 3)])
def test_convolve2d_with_stride_equals_scipy_sliced(client, stride):
    image, kernel = rng.normal(size=(40, 31)), rng.normal(size=(4, 4))
    sy, sx = (stride, stride) if isinstance(stride, int) else stride
    want = scipy_signal.convolve2d(image, kernel)[::sy, ::sx]
    np.testing.assert_allclose(client.convolve2d(image, kernel, stride=stride), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("kshape", [(3, 3), (4, 2), (2, 5), (9, 12)])
def test_correlate2d_equals_scipy(client, mode, kshape):
    image, kernel = rng.normal(size=(8, 10)), rng.normal(size=kshape)
    try:
        want = scipy_signal.correlate2d(image, kernel, mode=mode, boundary="symm")
    except ValueError:
        with pytest.raises(convservice.ConvServiceError):
            client.correlate2d(image, kernel, mode=mode, boundary="symm")
        return
    got = client.correlate2d(image, kernel, mode=mode, boundary="symm")
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_arrays_are_uploaded_once_and_reused_by_id(client, monkeypatch):
    image, kernel = rng.normal(size=(30, 30)), np.ones((3, 3))
    uploads = []
    real = client._upload
    monkeypatch.setattr(client, "_upload", lambda *a, **k: uploads.append(a[1]) or real(*a, **k))
    first = client.submit(image, kernel, mode="same")
    second = client.submit(image.copy(), kernel, mode="valid")
    assert len(uploads) == 2  # image and kernel, once each
    assert first.record["request"]["image"]["arrayId"] == second.record["request"]["image"]["arrayId"]
    np.testing.assert_allclose(second.result(30), scipy_signal.convolve2d(image, kernel, "valid"), rtol=1e-12)


def test_submit_wait_result_and_cancel(client):
    job = client.submit(rng.normal(size=(20, 20)), np.eye(3), mode="same")
    record = job.wait(timeout=30)
    assert record["status"] == "succeeded"
    assert job.result().shape == (20, 20)
    slow = client.submit(np.zeros((2000, 2000)), rng.normal(size=(41, 41)), method="direct", mode="same")
    record = slow.cancel()
    assert record["status"] in ("cancelled", "succeeded")
    if record["status"] == "cancelled":
        with pytest.raises(convservice.ConvServiceError) as e:
            slow.result(timeout=30)
        assert e.value.status == 409


def test_errors_carry_status_and_problem_detail(client):
    with pytest.raises(convservice.ConvServiceError) as e:
        client.convolve2d(np.ones((3, 5)), np.ones((5, 3)), mode="valid")
    assert e.value.status == 422
    assert "valid" in e.value.detail
    with pytest.raises(convservice.ConvServiceError) as e:
        client.convolve2d(np.ones((3, 3)), np.ones((2, 2)), mode="middle")
    assert e.value.status == 400
    assert "full, same or valid" in e.value.detail


def test_benchmark_returns_the_report(client):
    report = client.benchmark(image={"shape": [64, 64]}, kernel={"shape": [3, 3], "count": 2}, iterations=2,
                              repetitions=1, warmup=0, strategies=["serial", "parallel"], timeout=120)
    assert report["status"] == "succeeded"
    assert [r["strategy"] for r in report["results"]] == ["serial", "parallel"]
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    assert list(report.to_pandas().index) == ["serial", "parallel"]


# ---- FITS -------------------------------------------------------------------------------------------------------

def _sky_image(path, data, bitpix=None, gz=False):
    fits = pytest.importorskip("astropy.io.fits", reason="the FITS tests need astropy (apt-get install python3-astropy)")
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.crpix, w.wcs.cdelt = [12.0, 9.5], [-1e-4, 1e-4]
    w.wcs.crval, w.wcs.ctype = [202.4696, 47.1952], ["RA---TAN", "DEC--TAN"]
    hdu = fits.PrimaryHDU(data, header=w.to_header())
    hdu.header["OBJECT"] = "M51"
    if bitpix == 16:
        hdu.scale("int16", bscale=0.001, bzero=10.0)
    hdu.writeto(path, overwrite=True)
    if gz:
        with open(path, "rb") as f, gzip.open(str(path) + ".gz", "wb") as g:
            g.write(f.read())
        return str(path) + ".gz"
    return str(path)


@pytest.mark.parametrize("variant", ["float64", "int16-scaled", "gzip"])
def test_fits_written_by_astropy_round_trips_through_a_convolution(client, tmp_path, variant):
    """Upload an astropy FITS image, convolve, download as FITS: astropy opens it, the data equal scipy's result
    on the data astropy reads, and the header still maps to the sky."""
    from astropy.io import fits
    from astropy.wcs import WCS

    data = rng.normal(10.0, 2.0, size=(24, 30))
    path = _sky_image(tmp_path / "in.fits", data, bitpix=16 if variant == "int16-scaled" else None, gz=variant == "gzip")
    with fits.open(path) as f:
        original = f[0].data.astype(np.float64)
        sky_in = WCS(f[0].header)
    kernel = rng.uniform(size=(3, 3))
    job = client.submit(path, kernel, mode="same")
    out = tmp_path / "out.fits"
    job.result_fits(out, timeout=30)
    with fits.open(out) as f:
        f.verify("exception")
        result, header = f[0].data, f[0].header
    want = scipy_signal.convolve2d(original, kernel, mode="same")
    if variant == "int16-scaled":  # astropy scales 16-bit data in float32; the service in float64
        np.testing.assert_allclose(result, want, rtol=1e-6)
    else:
        np.testing.assert_allclose(result, want, rtol=1e-12, atol=1e-12)
    assert header["OBJECT"] == "M51" and header["BITPIX"] == -64
    assert np.allclose(WCS(header).pixel_to_world_values(5, 7), sky_in.pixel_to_world_values(5, 7))  # same mode: same grid
    history = " ".join(str(h) for h in header["HISTORY"])
    assert f"ConvService job {job.id}" in history and "mode='same'" in history


@pytest.mark.parametrize("matrix", ["cdelt", "pc", "cd"])
@pytest.mark.parametrize("mode,stride", [("full", 3), ("valid", (2, 3)), ("same", (3, 1))])
def test_fits_result_keeps_every_pixel_on_the_sky(client, tmp_path, matrix, mode, stride):
    """Output pixel (x, y) lies over input pixel (x·sx + ox, y·sy + oy), ox = -(Q-1)//2 in full mode, (Q-1)-(Q-1)//2
    in valid mode, 0 in same mode: the result's WCS must map it to the same sky position."""
    from astropy.io import fits
    from astropy.wcs import WCS

    path = _sky_image(tmp_path / "in.fits", rng.normal(size=(40, 50)))
    with fits.open(path, mode="update") as f:
        h = f[0].header
        if matrix == "pc":  # a rotated sky: PC matrix with CDELT
            h["PC1_1"], h["PC1_2"], h["PC2_1"], h["PC2_2"] = 0.8, -0.6, 0.6, 0.8
        elif matrix == "cd":
            cd1, cd2 = h["CDELT1"], h["CDELT2"]
            for k in ("CDELT1", "CDELT2"):
                del h[k]
            h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = cd1 * 0.8, -cd2 * 0.6, cd1 * 0.6, cd2 * 0.8
    kernel = np.ones((5, 4))  # P = 5 rows, Q = 4 columns
    job = client.submit(path, kernel, mode=mode, stride=stride)
    job.result_fits(tmp_path / "out.fits", timeout=30)
    with fits.open(tmp_path / "out.fits") as f:
        sky_out = WCS(f[0].header)
    with fits.open(path) as f:
        sky_in = WCS(f[0].header)
    sy, sx = (stride, stride) if isinstance(stride, int) else stride
    oy = {"full": -((5 - 1) // 2), "same": 0, "valid": (5 - 1) - (5 - 1) // 2}[mode]
    ox = {"full": -((4 - 1) // 2), "same": 0, "valid": (4 - 1) - (4 - 1) // 2}[mode]
    for x, y in [(0, 0), (4, 7), (10, 3)]:
        np.testing.assert_allclose(sky_out.pixel_to_world_values(x, y), sky_in.pixel_to_world_values(x * sx + ox, y * sy + oy), rtol=1e-12)


def test_fits_hdu_choice_and_array_download(client, tmp_path):
    from astropy.io import fits

    sci, err = rng.normal(size=(6, 7)), rng.normal(size=(4, 5))
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(sci, name="SCI"), fits.ImageHDU(err, name="ERR")]).writeto(tmp_path / "m.fits")
    assert np.array_equal(client.array(client.upload(tmp_path / "m.fits")), sci)
    array_id = client.upload(tmp_path / "m.fits", hdu="ERR")
    assert np.array_equal(client.array(array_id), err)
    client.array_fits(array_id, tmp_path / "back.fits")
    with fits.open(tmp_path / "back.fits") as f:
        assert np.array_equal(f[0].data, err) and f[0].header["EXTNAME"] == "ERR"


def test_hostile_fits_is_refused_with_a_reason(client, tmp_path):
    from astropy.io import fits

    fits.HDUList([fits.PrimaryHDU(np.zeros((3, 4, 5)))]).writeto(tmp_path / "cube.fits")
    with pytest.raises(convservice.ConvServiceError) as e:
        client.upload(tmp_path / "cube.fits")
    assert e.value.status == 415 and "cube" in e.value.detail


# ---- NaN-aware convolution -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("boundary", ["fill", "wrap", "extend"])
@pytest.mark.parametrize("nan_treatment,preserve_nan", [("interpolate", False), ("interpolate", True), ("fill", False)])
def test_convolve_matches_astropy(client, boundary, nan_treatment, preserve_nan):
    astropy_convolution = pytest.importorskip("astropy.convolution", reason="needs astropy (apt-get install python3-astropy)")
    image = rng.normal(5.0, 1.0, size=(15, 13))
    image[rng.random(image.shape) < 0.15] = np.nan
    kernel = rng.uniform(size=(5, 3))
    want = astropy_convolution.convolve(image, kernel, boundary=boundary, nan_treatment=nan_treatment, preserve_nan=preserve_nan)
    got = client.convolve(image, kernel, boundary=boundary, nan_treatment=nan_treatment, preserve_nan=preserve_nan)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---- the README's example --------------------------------------------------------------------------------------------

def test_readme_example_runs(service_url):
    """The README's example, verbatim but for the service URL (tests use a port of their own)."""
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert "http://localhost:5000" in code
    exec(compile(code.replace("http://localhost:5000", service_url), "README.md", "exec"), {})
