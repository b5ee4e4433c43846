"""The client: uploads arrays once (.npy, or FITS files as they are), submits jobs, fetches results as .npy."""
import hashlib
import io
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")
_FINISHED = ("succeeded", "failed", "cancelled")


class ConvServiceError(Exception):
    """The service refused a request (or failed it): ``status`` is the HTTP status, ``detail`` the problem's detail."""

    def __init__(self, status, detail, title=None, body=None):
        super().__init__(f"{status} {title or ''}: {detail}".replace("  ", " "))
        self.status = status
        self.detail = detail
        self.title = title
        self.body = body


class Client:
    """A connection to one ConvService (``url`` like ``http://localhost:5000``).

    Arrays are uploaded once and reused by their id: the client remembers the id of every array (by content) and
    every file (by path, size and modification time) it has uploaded, and uploads again only if the service has
    evicted it.
    """

    def __init__(self, url="http://localhost:5000", api_key=None, timeout=60.0):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._ids = {}

    # ---- HTTP -------------------------------------------------------------------------------------------------
    def _request(self, method, path, body=None, content_type=None, accept="application/json", timeout=None):
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        if self.api_key:
            headers["X-Api-Key"] = self.api_key
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as response:
                return response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                problem = json.loads(raw)
                raise ConvServiceError(e.code, problem.get("detail") or e.reason, problem.get("title"), problem) from None
            except (ValueError, AttributeError):
                raise ConvServiceError(e.code, raw.decode("utf-8", "replace") or str(e.reason)) from None

    def _json(self, method, path, body=None, timeout=None):
        _, _, raw = self._request(method, path, body, timeout=timeout)
        return json.loads(raw) if raw else None

    # ---- arrays -----------------------------------------------------------------------------------------------
    def upload(self, data, hdu=None):
        """Stores ``data`` (array-like, or a path to a .npy or FITS file) and returns its array id (cached)."""
        if isinstance(data, (str, os.PathLike)):
            path = os.fspath(data)
            st = os.stat(path)
            key = ("file", os.path.abspath(path), st.st_size, st.st_mtime_ns, hdu)
            if key not in self._ids:
                with open(path, "rb") as f:
                    raw = f.read()
                if path.lower().endswith(FITS_SUFFIXES):
                    query = "" if hdu is None else "?hdu=" + urllib.parse.quote(str(hdu))
                    self._ids[key] = self._upload(raw, "application/fits", query)
                elif path.lower().endswith(".npy"):
                    self._ids[key] = self._upload(raw, "application/x-npy")
                else:
                    raise ValueError(f"{path}: give a .npy or FITS file (.fits, .fit, .fts, optionally .gz), or a numpy array")
            return self._ids[key]
        array = np.ascontiguousarray(np.asarray(data, dtype=np.float64))
        if array.ndim != 2:
            raise ValueError(f"convolve2d inputs must be 2-D, not {array.ndim}-D")
        key = ("array", array.shape, hashlib.sha256(array.tobytes()).hexdigest())
        if key not in self._ids:
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            self._ids[key] = self._upload(buffer.getvalue(), "application/x-npy")
        return self._ids[key]

    def _upload(self, raw, content_type, query=""):
        _, _, body = self._request("POST", "/arrays" + query, raw, content_type)
        return json.loads(body)["id"]

    def _forget(self, array_id):
        self._ids = {k: v for k, v in self._ids.items() if v != array_id}

    def array(self, array_id):
        """A stored array (an upload or a result) as a numpy array."""
        return _load_npy(self._request("GET", f"/arrays/{array_id}", accept="application/x-npy")[2])

    def array_fits(self, array_id, path=None):
        """A stored array as FITS bytes (with the header it was uploaded with); written to ``path`` when given."""
        return _maybe_write(self._request("GET", f"/arrays/{array_id}", accept="application/fits")[2], path)

    # ---- jobs -------------------------------------------------------------------------------------------------
    def submit(self, in1, in2, mode="full", boundary="fill", fillvalue=0, stride=1, method="auto", hdu=None, **fields):
        """Queues ``scipy.signal.convolve2d(in1, in2, mode, boundary, fillvalue)[::sy, ::sx]``; returns a :class:`Job`.

        ``in1`` and ``in2`` are array-likes or .npy/FITS paths. Extra ``fields`` go into the request as they are
        (``threads``, ``nanTreatment``, ``normalizeKernel``, ``preserveNan``).
        """
        body = {"boundary": boundary, "fillValue": float(fillvalue), "stride": _stride(stride), "method": method, **fields}
        if mode is not None:
            body["mode"] = mode
        for attempt in (1, 2):
            image, kernel = self.upload(in1, hdu=hdu), self.upload(in2)
            body["image"], body["kernel"] = {"arrayId": image}, {"arrayId": kernel}
            try:
                return Job(self, self._json("POST", "/convolutions", body))
            except ConvServiceError as e:
                # An input evicted since we uploaded it: upload again, once.
                if attempt == 2 or e.status != 422 or "not in the array store" not in (e.detail or ""):
                    raise
                self._forget(image)
                self._forget(kernel)

    def convolve2d(self, in1, in2, mode="full", boundary="fill", fillvalue=0, stride=1, method="auto", timeout=None, **fields):
        """Exactly ``scipy.signal.convolve2d(in1, in2, mode, boundary, fillvalue)[::sy, ::sx]``, computed by the service."""
        return self.submit(in1, in2, mode, boundary, fillvalue, stride, method, **fields).result(timeout)

    def correlate2d(self, in1, in2, mode="full", boundary="fill", fillvalue=0, stride=1, method="auto", timeout=None, **fields):
        """Exactly ``scipy.signal.correlate2d(in1, in2, mode, boundary, fillvalue)[::sy, ::sx]``.

        Computed as the convolution with the kernel flipped on both axes. In ``same`` mode scipy centres a
        correlation one pixel later than a convolution along an even-sized kernel axis; a zero row/column
        appended to the flipped kernel there gives the same centring (so ±inf pixels meet a 0 weight: NaN).
        """
        kernel = self._kernel_array(in2)[::-1, ::-1]
        if mode == "same":
            kernel = np.pad(kernel, ((0, 1 - kernel.shape[0] % 2), (0, 1 - kernel.shape[1] % 2)))
        return self.convolve2d(in1, kernel, mode, boundary, fillvalue, stride, method, timeout, **fields)

    def convolve(self, array, kernel, boundary="fill", fill_value=0.0, nan_treatment="interpolate", normalize_kernel=True,
                 preserve_nan=False, stride=1, timeout=None):
        """``astropy.convolution.convolve(array, kernel, boundary, fill_value, nan_treatment, normalize_kernel,
        preserve_nan=...)`` (boundary 'fill', 'wrap' or 'extend'; odd kernels), computed by the service."""
        return self.submit(array, kernel, None, boundary, fill_value, stride, "auto", nanTreatment=nan_treatment,
                           normalizeKernel=bool(normalize_kernel), preserveNan=bool(preserve_nan)).result(timeout)

    def _kernel_array(self, data):
        if isinstance(data, (str, os.PathLike)):
            return self.array(self.upload(data))
        return np.asarray(data, dtype=np.float64)

    # ---- benchmarks -------------------------------------------------------------------------------------------
    def benchmark(self, timeout=None, poll=0.5, **fields):
        """Runs a benchmark (``fields`` as POST /benchmarks takes them; none = the tutorial's experiment) and returns
        its finished report, a dict (with ``to_pandas()``)."""
        report = self._json("POST", "/benchmarks", fields)
        deadline = None if timeout is None else time.monotonic() + timeout
        while report["status"] not in _FINISHED:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"benchmark {report['id']} is still {report['status']} after {timeout} s")
            time.sleep(poll)
            report = self._json("GET", f"/benchmarks/{report['id']}")
        if report["status"] != "succeeded":
            raise ConvServiceError(None, report.get("error") or report["status"], "Benchmark " + report["status"], report)
        return BenchmarkReport(report)


class Job:
    """A submitted convolution: ``wait()``, ``result()``, ``result_fits()``, ``cancel()``."""

    def __init__(self, client, record):
        self._client = client
        self.record = record
        self.id = record["id"]

    @property
    def status(self):
        return self.record["status"]

    def refresh(self):
        self.record = self._client._json("GET", f"/convolutions/{self.id}")
        return self.record

    def wait(self, timeout=None):
        """Blocks until the job finishes (TimeoutError after ``timeout`` seconds); returns the job record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.02
        while self.status not in _FINISHED:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {self.id} is still {self.status} after {timeout} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
            self.refresh()
        return self.record

    def result(self, timeout=None):
        """The output as a float64 numpy array; raises :class:`ConvServiceError` if the job failed or was cancelled."""
        self.wait(timeout)
        return _load_npy(self._client._request("GET", f"/convolutions/{self.id}/result", accept="application/x-npy")[2])

    def result_fits(self, path=None, timeout=None):
        """The output as FITS bytes (the input image's header, WCS adjusted, plus HISTORY); written to ``path`` when given."""
        self.wait(timeout)
        return _maybe_write(self._client._request("GET", f"/convolutions/{self.id}/result", accept="application/fits")[2], path)

    def cancel(self):
        """Cancels a queued or running job (a finished one is deleted with its result)."""
        status, _, body = self._client._request("DELETE", f"/convolutions/{self.id}")
        if status == 200 and body:
            self.record = json.loads(body)
        return self.record


class BenchmarkReport(dict):
    """A benchmark report (the service's JSON as a dict)."""

    def to_pandas(self):
        """One row per strategy: median wall ms, throughput, speedup, efficiency (needs pandas)."""
        import pandas as pd  # optional dependency

        rows = [{"strategy": r["strategy"], "convolutions": r["convolutions"], "workers": r["workers"],
                 "wall_ms_median": r["wallMs"]["median"], "per_convolution_ms_median": r["perConvolutionMs"]["median"],
                 "throughput_per_s": r["throughputPerSecond"], "speedup": r.get("speedup"), "efficiency": r.get("efficiency")}
                for r in self.get("results", [])]
        return pd.DataFrame(rows).set_index("strategy")


def _stride(stride):
    if isinstance(stride, int):
        return [stride, stride]
    sy, sx = stride
    return [int(sy), int(sx)]


def _load_npy(raw):
    return np.load(io.BytesIO(raw), allow_pickle=False)


def _maybe_write(raw, path):
    if path is not None:
        with open(path, "wb") as f:
            f.write(raw)
    return raw
