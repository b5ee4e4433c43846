#!/usr/bin/python3
"""Measures direct and fft on a grid of shapes (one thread, via the benchmark project's --compare mode) and fits
the constants of src/ConvService.Core/Convolution/CostModel.cs by non-negative least squares.

    /usr/bin/python3 bench/calibrate.py            # after: dotnet build -c Release bench/ConvService.Benchmarks

It prints each measurement next to the current model's estimate (the Plan reason carries both estimates), then
the fitted constants. Features mirror CostModel.Estimate: direct = multiply-adds, input bytes streamed, outputs;
fft = n·log2 n butterfly units, spectrum elements, and a fixed cost.
"""
import json
import math
import os
import subprocess
import tempfile

import numpy as np
from scipy.optimize import nnls

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "bench", "ConvService.Benchmarks", "bin", "Release", "net10.0", "ConvService.Benchmarks.dll")

DIRECT = [  # (M, N, P, Q, stride)
    (1000, 1000, 3, 3, 1), (1000, 1000, 5, 5, 1), (1000, 1000, 9, 9, 1), (1000, 1000, 17, 17, 1),
    (500, 500, 33, 33, 1), (2000, 2000, 4, 4, 1), (3000, 3000, 4, 4, 5), (2000, 2000, 9, 9, 3),
    (300, 300, 65, 65, 1), (64, 64, 3, 3, 1), (4000, 200, 7, 7, 2),
]
FFT = [
    (256, 256, 9, 9, 1), (500, 500, 33, 33, 1), (1000, 1000, 17, 17, 1), (1000, 1000, 65, 65, 1),
    (2000, 2000, 65, 65, 1), (300, 300, 65, 65, 1), (1500, 700, 31, 31, 2), (64, 64, 9, 9, 1),
]


def next5(n):
    best = None
    p5 = 1
    while p5 < 2 * n + 2:
        p35 = p5
        while p35 < 2 * n + 2:
            v = p35
            while v < n:
                v *= 2
            best = v if best is None or v < best else best
            p35 *= 3
        p5 *= 5
    return best


def features(m, n, p, q, s):
    orows, ocols = -(-(m + p - 1) // s), -(-(n + q - 1) // s)
    macs = orows * ocols * p * q
    rows_read = min(orows * p, orows * s + p)
    direct = [macs, rows_read * n * 8, orows * ocols]
    ly = next5(max(m, p, (orows - 1) * s + 1, m + p - 1))
    lx = next5(max(n, q, (ocols - 1) * s + 1, n + q - 1))
    h = lx // 2 + 1
    row_ffts = (m + 1) // 2 + (p + 1) // 2 + (orows + 1) // 2
    units = row_ffts * lx * math.log2(max(lx, 2)) + 3 * h * ly * math.log2(max(ly, 2))
    fft = [units, h * ly * 3 + m * lx, 1.0]
    return direct, fft


def measure(tmp, m, n, p, q, s, method):
    rng = np.random.default_rng(m * 31 + p)
    np.save(os.path.join(tmp, "i.npy"), rng.random((m, n)))
    np.save(os.path.join(tmp, "k.npy"), rng.random((p, q)))
    out = subprocess.run(["dotnet", DLL, "--compare", "--image", os.path.join(tmp, "i.npy"), "--kernel", os.path.join(tmp, "k.npy"),
                          "--stride", str(s), str(s), "--method", method, "--repeat", "5", "--min-warmup-ms", "200"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    rows_d, rows_f = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in DIRECT:
            r = measure(tmp, *shape, "direct")
            rows_d.append((shape, features(*shape)[0], r["median_ms"], r["estimated_ms"]))
            print(f"direct {shape}: measured {r['median_ms']:.3f} ms, model {r['estimated_ms']:.3f} ms")
        for shape in FFT:
            r = measure(tmp, *shape, "fft")
            rows_f.append((shape, features(*shape)[1], r["median_ms"], r["estimated_ms"]))
            print(f"fft    {shape}: measured {r['median_ms']:.3f} ms, model {r['estimated_ms']:.3f} ms")
    # Relative least squares (divide each row by its time) so small cases count as much as large ones.
    for name, rows, labels in (("direct", rows_d, ("ns/multiply-add", "ns/input byte", "ns/output")),
                               ("fft", rows_f, ("ns/butterfly unit", "ns/element", "fixed ns"))):
        a = np.array([f for _, f, _, _ in rows], dtype=float)
        t = np.array([ms for _, _, ms, _ in rows]) * 1e6  # ns
        coef, _ = nnls(a / t[:, None], np.ones(len(t)))
        print(f"{name} fit: " + ", ".join(f"{l} = {c:.4g}" for l, c in zip(labels, coef)))
        for (shape, f, ms, est) in rows:
            print(f"   {shape}: measured {ms:.3f} ms, fitted {np.dot(f, coef) / 1e6:.3f} ms, current model {est:.3f} ms")


if __name__ == "__main__":
    main()
