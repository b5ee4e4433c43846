#!/usr/bin/python3
"""Fits the constants of src/ConvService.Core/Convolution/CostModel.cs from measurements on this machine.

    dotnet build -c Release bench/ConvService.Benchmarks && /usr/bin/python3 bench/calibrate.py

Times direct and fft (one thread, median of 5 after warm-up, via the benchmark project's --compare mode) on a
grid of shapes, takes the model's inputs from the same JSON (CostModel.Features, so python and C# cannot
drift apart), and fits each family's per-unit costs by non-negative least squares on relative error. Prints
every measurement next to the current model's estimate and the fitted one. Run it on a quiet machine.
"""
import json
import os
import subprocess
import tempfile

import numpy as np
from scipy.optimize import nnls

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "bench", "ConvService.Benchmarks", "bin", "Release", "net10.0", "ConvService.Benchmarks.dll")

LANE = [(1000, 1000, 3, 3), (1000, 1000, 5, 5), (1000, 1000, 9, 9), (1000, 1000, 17, 17), (500, 500, 33, 33),
        (2000, 2000, 4, 4), (3000, 3000, 1, 1), (300, 300, 65, 65), (64, 64, 3, 3), (32, 32, 3, 3), (4000, 200, 7, 7)]
DOT = [(3000, 3000, 4, 4, 5), (2000, 2000, 9, 9, 3), (1000, 1000, 3, 3, 2), (1000, 1000, 17, 17, 4), (4000, 400, 7, 7, 2),
       (200, 200, 5, 5, 3)]
FFT = [(256, 256, 9, 9), (500, 500, 33, 33), (1000, 1000, 17, 17), (1000, 1000, 65, 65), (2000, 2000, 65, 65),
       (300, 300, 65, 65), (1500, 700, 31, 31), (64, 64, 9, 9)]


def measure(tmp, m, n, p, q, s, method):
    rng = np.random.default_rng(m * 31 + p)
    np.save(os.path.join(tmp, "i.npy"), rng.random((m, n)))
    np.save(os.path.join(tmp, "k.npy"), rng.random((p, q)))
    out = subprocess.run(["dotnet", DLL, "--compare", "--image", os.path.join(tmp, "i.npy"), "--kernel", os.path.join(tmp, "k.npy"),
                          "--stride", str(s), str(s), "--method", method, "--repeat", "5", "--min-warmup-ms", "200"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def fit(name, results, columns, labels):
    a = np.array([[r["features"][c] if c != "one" else 1.0 for c in columns] for r in results])
    t = np.array([r["median_ms"] for r in results]) * 1e6
    coef, _ = nnls(a / t[:, None], np.ones(len(t)))
    print(f"{name} fit: " + ", ".join(f"{l} = {c:.4g}" for l, c in zip(labels, coef)))
    for r, row in zip(results, a):
        print(f"   {r['shape']}: measured {r['median_ms']:.3f} ms, fitted {row @ coef / 1e6:.3f} ms, current model {r['estimated_ms']:.3f} ms")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        lane = [dict(measure(tmp, *s, 1, "direct"), shape=s) for s in LANE]
        dot = [dict(measure(tmp, *s, "direct"), shape=s) for s in DOT]
        fft = [dict(measure(tmp, *s, 1, "fft"), shape=s) for s in FFT]
    cols = ["multiply_adds", "input_bytes", "outputs", "row_taps"]
    fit("direct, stride 1", lane, cols, ["ns/multiply-add", "ns/input byte", "ns/output", "ns/row tap"])
    fit("direct, stride > 1", dot, cols, ["ns/multiply-add", "ns/input byte", "ns/output", "ns/row tap"])
    fit("fft", fft, ["fft_units", "fft_elements", "one"], ["ns/butterfly unit", "ns/element", "fixed ns"])


if __name__ == "__main__":
    main()
