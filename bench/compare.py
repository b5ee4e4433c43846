#!/usr/bin/python3
"""Side-by-side timings, one run, same inputs: scipy convolve2d (+ [::sy, ::sx]), scipy fftconvolve,
OpenCV filter2D and ConvService (the benchmark project's --compare mode, Release build, one thread).

Run from the repository root with Debian's python (it has scipy and cv2):

    /usr/bin/python3 bench/compare.py            # builds bench/ConvService.Benchmarks in Release first
    /usr/bin/python3 bench/compare.py --quick    # fewer samples
    /usr/bin/python3 bench/compare.py --with-direct   # also times our direct method on 2000x2000 * 65x65 (slow)

Every time is the median of several samples after a warm-up of at least 2 s (tiered JIT needs that long
before microsecond-scale calls run fully optimised code; python gets the same warm-up); a sample is a batch of calls lasting at least
20 ms, divided by the batch size (so microsecond cases are not timer noise). ConvService uses the same rule
inside its own process. Everything runs on one thread (cv2.setNumThreads(1); scipy's convolve2d and
fftconvolve are single-threaded; ConvService Threads = 1).

Matching OpenCV to convolve2d 'full': filter2D computes a correlation, dst(y, x) = sum K'(a, b) src(y + a - ay,
x + b - ax). With K' = K flipped on both axes, anchor (0, 0), and src = the image zero-padded by (P-1, Q-1)
on every side (copyMakeBorder, BORDER_CONSTANT), dst[:M+P-1, :N+Q-1] is exactly the full convolution; the
reads past the padded edge (BORDER_CONSTANT, 0) only reach rows/columns that are cropped away. The padding
is done once outside the timed call, so filter2D is timed at its best. The script checks the result against
scipy before trusting the timing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import scipy
from scipy.signal import convolve2d, fftconvolve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = os.path.join(ROOT, "bench", "ConvService.Benchmarks")
DLL = os.path.join(PROJECT, "bin", "Release", "net10.0", "ConvService.Benchmarks.dll")


def bench(fn, repeat, min_sample_s=0.02, min_warmup_s=2.0):
    """Median seconds per call: warm up, then `repeat` samples of a batch lasting >= min_sample_s."""
    start = time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - start < min_warmup_s:
        fn()
        calls += 1
    one = (time.perf_counter() - start) / calls
    batch = max(1, int(np.ceil(min_sample_s / max(one, 1e-9))))
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t) / batch)
    return statistics.median(samples)


def ours(tmp, image, kernel, repeat, mode="full", boundary="fill", stride=(1, 1), method="auto", check_against=None):
    ipath, kpath, opath = (os.path.join(tmp, n) for n in ("image.npy", "kernel.npy", "out.npy"))
    np.save(ipath, image)
    np.save(kpath, kernel)
    cmd = ["dotnet", DLL, "--compare", "--image", ipath, "--kernel", kpath, "--mode", mode, "--boundary", boundary,
           "--stride", str(stride[0]), str(stride[1]), "--method", method, "--threads", "1",
           "--repeat", str(repeat), "--out", opath]
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    if check_against is not None:
        result["rel_err"] = rel_err(check_against, np.load(opath))
    return result


def rel_err(expected, actual):
    assert expected.shape == actual.shape, (expected.shape, actual.shape)
    return float(np.max(np.abs(expected - actual)) / max(1.0, float(np.max(np.abs(expected)))))


def opencv_full(padded, flipped):
    return cv2.filter2D(padded, -1, flipped, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)


def fmt_time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 samples instead of 7")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--with-direct", action="store_true", help="also time direct on 2000x2000 * 65x65 (~10 s)")
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args()
    repeat = 3 if args.quick else 7

    if not args.no_build:
        subprocess.run(["dotnet", "build", "-c", "Release", "-v", "q", "-nologo", PROJECT], check=True,
                       stdout=subprocess.DEVNULL)
    cv2.setNumThreads(1)
    rng = np.random.default_rng(2026)
    rows = []

    def row(case, theirs_name, theirs_s, ours_result, goal, note=""):
        ours_s = ours_result["median_ms"] / 1e3
        rows.append({"case": case, "baseline": theirs_name, "baseline_s": theirs_s, "ours_method": ours_result["method"],
                     "ours_s": ours_s, "speedup": theirs_s / ours_s, "goal": goal, "rel_err": ours_result.get("rel_err"),
                     "reason": ours_result["reason"], "note": note})

    with tempfile.TemporaryDirectory() as tmp:
        # 1. The tutorial: 3000x3000 * 4x4, full, stride 5.
        image = rng.random((3000, 3000))
        kernel = rng.random((4, 4))
        expected = convolve2d(image, kernel)[::5, ::5]
        t_scipy = bench(lambda: convolve2d(image, kernel)[::5, ::5], max(3, repeat // 2))
        r = ours(tmp, image, kernel, repeat, stride=(5, 5), check_against=expected)
        row("3000x3000 * 4x4, full, stride 5 (tutorial)", "scipy convolve2d+slice", t_scipy, r, ">= 100x")

        # 2. Full resolution, stride 1, against OpenCV filter2D (float64).
        full = convolve2d(image, kernel)
        padded = cv2.copyMakeBorder(image, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=0.0)
        flipped = np.ascontiguousarray(kernel[::-1, ::-1])
        cv_out = opencv_full(padded, flipped)[:3003, :3003]
        cv_err = rel_err(full, cv_out)
        assert cv_err < 1e-12, f"OpenCV does not match convolve2d full: rel err {cv_err}"
        t_cv = bench(lambda: opencv_full(padded, flipped), repeat)
        r = ours(tmp, image, kernel, repeat, check_against=full)
        row("3000x3000 * 4x4, full, stride 1", "OpenCV filter2D (f64, 1 thread)", t_cv, r, ">= 3x",
            f"OpenCV vs scipy rel err {cv_err:.1e}")
        t_scipy_full = bench(lambda: convolve2d(image, kernel), 3)
        row("3000x3000 * 4x4, full, stride 1", "scipy convolve2d", t_scipy_full, r, "(info)")
        del image, full, padded, cv_out, expected

        # 3. Large kernel: 2000x2000 * 65x65, full: auto (and forced fft/direct) against fftconvolve.
        image = rng.random((2000, 2000))
        kernel = rng.random((65, 65))
        expected = fftconvolve(image, kernel)
        t_fft = bench(lambda: fftconvolve(image, kernel), repeat)
        r_auto = ours(tmp, image, kernel, repeat, check_against=expected)
        row("2000x2000 * 65x65, full, auto", "scipy fftconvolve", t_fft, r_auto, "<= 2x slower (ratio >= 0.5)")
        r_fft = ours(tmp, image, kernel, repeat, method="fft", check_against=expected)
        row("2000x2000 * 65x65, full, fft", "scipy fftconvolve", t_fft, r_fft, "(info)")
        if args.with_direct:
            r_direct = ours(tmp, image, kernel, 3, method="direct", check_against=expected)
            row("2000x2000 * 65x65, full, direct", "scipy fftconvolve", t_fft, r_direct, "(info)")
        del image, expected

        # 4. Small: 32x32 * 3x3, same.
        image = rng.random((32, 32))
        kernel = rng.random((3, 3))
        expected = convolve2d(image, kernel, mode="same")
        t_small = bench(lambda: convolve2d(image, kernel, mode="same"), repeat)
        r = ours(tmp, image, kernel, repeat, mode="same", check_against=expected)
        row("32x32 * 3x3, same", "scipy convolve2d", t_small, r, "(µs per call)")

    print(f"scipy {scipy.__version__}, numpy {np.__version__}, OpenCV {cv2.__version__}, one thread each; "
          f"median of {repeat} samples")
    print(f"{'case':44} {'baseline':34} {'baseline':>10} {'ours':>10} {'method':>7} {'speedup':>9}  {'goal':28} rel.err")
    for x in rows:
        err = "" if x["rel_err"] is None else f"{x['rel_err']:.1e}"
        print(f"{x['case']:44} {x['baseline']:34} {fmt_time(x['baseline_s']):>10} {fmt_time(x['ours_s']):>10} "
              f"{x['ours_method']:>7} {x['speedup']:>8.1f}x  {x['goal']:28} {err}")
    for x in rows:
        if x["note"]:
            print(f"note ({x['case']}): {x['note']}")
    print("ours' plan reasons:")
    for x in rows:
        print(f"  {x['case']}: {x['reason']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
