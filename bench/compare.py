#!/usr/bin/python3
"""Side-by-side timings, one run, same inputs: scipy convolve2d (+ [::sy, ::sx]), scipy fftconvolve,
OpenCV filter2D and ConvService (the benchmark project's --compare mode, Release build, one thread).

Run from the repository root with Debian's python (it has scipy and cv2):

    /usr/bin/python3 bench/compare.py            # builds bench/ConvService.Benchmarks in Release first
    /usr/bin/python3 bench/compare.py --quick    # fewer samples
    /usr/bin/python3 bench/compare.py --with-direct   # also times our direct method on 2000x2000 * 65x65 (slow)
    /usr/bin/python3 bench/compare.py --service http://127.0.0.1:5100   # also the same cases through a running
                                                 # service's POST /benchmarks (serial strategy), in the same run

Headline rows time the plain calls on both sides (a new output array per call); rows marked "same, ... reused"
time the loop form where the API has one (OpenCV's dst=, ours' Convolve2D overload taking an output), as info.

Both sides warm up for at least 2 s (tiered JIT needs that long before microsecond-scale calls run fully
optimised code; python gets the same), then samples are interleaved: one of theirs, one of ours, repeated,
so both see the same load on a shared machine. A sample is a batch of calls lasting at least 20 ms divided by
the batch size (so microsecond cases are not timer noise). Reported: the median sample of each side and the
median of the per-round ratios (the speedup column). Everything runs on one thread (cv2.setNumThreads(1); scipy's convolve2d and
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
import urllib.request

import cv2
import numpy as np
import scipy
from scipy.signal import convolve2d, fftconvolve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = os.path.join(ROOT, "bench", "ConvService.Benchmarks")
DLL = os.path.join(PROJECT, "bin", "Release", "net10.0", "ConvService.Benchmarks.dll")


class Python:
    """Times a python callable: warm-up, then one sample (a batch lasting >= min_sample_s) per call of sample()."""

    def __init__(self, fn, min_sample_s=0.02, min_warmup_s=2.0):
        self.fn = fn
        start = time.perf_counter()
        calls = 0
        while calls < 2 or time.perf_counter() - start < min_warmup_s:
            fn()
            calls += 1
        one = (time.perf_counter() - start) / calls
        self.batch = max(1, int(np.ceil(min_sample_s / max(one, 1e-9))))

    def sample(self):
        t = time.perf_counter()
        for _ in range(self.batch):
            self.fn()
        return (time.perf_counter() - t) / self.batch


class Ours:
    """The benchmark project's --compare --interactive process: warms up, then answers one sample per request."""

    def __init__(self, tmp, image, kernel, mode="full", boundary="fill", stride=(1, 1), method="auto", output="fresh",
                 threads=1):
        """kernel: one 2-D kernel, or a list of them (a filter bank: one pass over the image; the output is their stack)."""
        ipath = os.path.join(tmp, "image.npy")
        self.out = os.path.join(tmp, "out.npy")
        np.save(ipath, image)
        kernel_args = []
        for k, one in enumerate(kernel if isinstance(kernel, list) else [kernel]):
            kpath = os.path.join(tmp, f"kernel{k}.npy")
            np.save(kpath, one)
            kernel_args += ["--kernel", kpath]
        cmd = ["dotnet", DLL, "--compare", "--interactive", "--image", ipath, *kernel_args, "--mode", mode,
               "--boundary", boundary, "--stride", str(stride[0]), str(stride[1]), "--method", method, "--threads", str(threads),
               "--output", output, "--out", self.out]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.meta = json.loads(self.proc.stdout.readline())

    def sample(self):
        self.proc.stdin.write("sample\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline()) / 1e3

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=600)
        return np.load(self.out)


def side_by_side(theirs, ours, rounds):
    """Interleaves samples (theirs, ours, theirs, ours, ...) so both see the same load on a shared machine.
    Returns (median theirs s, median ours s, median of per-round ratios theirs/ours)."""
    t, o = [], []
    for _ in range(rounds):
        t.append(theirs.sample())
        o.append(ours.sample())
    return statistics.median(t), statistics.median(o), statistics.median([a / b for a, b in zip(t, o)])


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def rel_err(expected, actual):
    assert expected.shape == actual.shape, (expected.shape, actual.shape)
    return float(np.max(np.abs(expected - actual)) / max(1.0, float(np.max(np.abs(expected)))))


def opencv_full(padded, flipped, dst=None):
    return cv2.filter2D(padded, -1, flipped, dst=dst, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)


def fmt_time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def service_benchmark(base, body):
    """POST /benchmarks and wait for the report (loopback only)."""
    assert base.startswith(("http://127.", "http://localhost", "http://[::1]")), "loopback targets only"
    req = urllib.request.Request(base + "/benchmarks?wait=60", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        report = json.load(r)
    for _ in range(20):
        if report["status"] in ("succeeded", "failed", "cancelled"):
            break
        with urllib.request.urlopen(f"{base}/benchmarks/{report['id']}?wait=60", timeout=120) as r:
            report = json.load(r)
    assert report["status"] == "succeeded", report.get("error")
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--with-direct", action="store_true", help="also time direct on 2000x2000 * 65x65 (~10 s)")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--service", help="a running ConvService (loopback URL): time the tutorial and full-resolution cases "
                                      "through its POST /benchmarks serial strategy too, beside the kernel alone")
    args = ap.parse_args()
    repeat = 3 if args.quick else 7

    if not args.no_build:
        subprocess.run(["dotnet", "build", "-c", "Release", "-v", "q", "-nologo", PROJECT], check=True,
                       stdout=subprocess.DEVNULL)
    cv2.setNumThreads(1)
    rng = np.random.default_rng(2026)
    rows = []
    load_start = loadavg()

    with tempfile.TemporaryDirectory() as tmp:
        def case(name, baseline_name, theirs_fn, ours_kwargs, image, kernel, expected, goal, rounds, note=""):
            theirs = Python(theirs_fn)
            ours = Ours(tmp, image, kernel, **ours_kwargs)
            t, o, ratio = side_by_side(theirs, ours, rounds)
            err = rel_err(expected, ours.close())
            rows.append({"case": name, "baseline": baseline_name, "baseline_s": t, "ours_method": ours.meta["method"],
                         "ours_s": o, "speedup": ratio, "goal": goal, "rel_err": err, "reason": ours.meta["reason"],
                         "note": note})

        # 1. The tutorial: 3000x3000 * 4x4, full, stride 5.
        image = rng.random((3000, 3000))
        kernel = rng.random((4, 4))
        expected = convolve2d(image, kernel)[::5, ::5]
        case("3000x3000 * 4x4, full, stride 5 (tutorial)", "scipy convolve2d+slice",
             lambda: convolve2d(image, kernel)[::5, ::5], {"stride": (5, 5), "output": "fresh"}, image, kernel, expected,
             ">= 100x", repeat)
        case("  same, ours into a reused output", "scipy convolve2d+slice",
             lambda: convolve2d(image, kernel)[::5, ::5], {"stride": (5, 5), "output": "reused"}, image, kernel, expected,
             "(info)", 3, "ours writes into one caller-owned output (the Convolve2D overload a loop would use); scipy has no out=")

        # 2. Full resolution, stride 1, against OpenCV filter2D (float64).
        full = convolve2d(image, kernel)
        padded = cv2.copyMakeBorder(image, 3, 3, 3, 3, cv2.BORDER_CONSTANT, value=0.0)
        flipped = np.ascontiguousarray(kernel[::-1, ::-1])
        cv_err = rel_err(full, opencv_full(padded, flipped)[:3003, :3003])
        assert cv_err < 1e-12, f"OpenCV does not match convolve2d full: rel err {cv_err}"
        case("3000x3000 * 4x4, full, stride 1", "OpenCV filter2D (f64, 1 thread)", lambda: opencv_full(padded, flipped),
             {"output": "fresh"}, image, kernel, full, ">= 3x", repeat, f"OpenCV's output vs scipy's: rel err {cv_err:.1e}")
        cv_dst = np.empty_like(padded)
        case("  same, both into a reused output", "OpenCV filter2D (f64, 1 thread)", lambda: opencv_full(padded, flipped, cv_dst),
             {"output": "reused"}, image, kernel, full, "(info)", 3, "OpenCV with dst=, ours with the output overload")
        case("3000x3000 * 4x4, full, stride 1", "scipy convolve2d", lambda: convolve2d(image, kernel),
             {}, image, kernel, full, "(info)", 3)
        del full, padded

        # 1b. A filter bank: 8 4x4 filters on the tutorial's case. scipy (like every peer) reads the image once per
        # filter: 8 calls; ours is one Convolve2D over the bank (one pass over the image), one thread. Into reused
        # outputs (as the benchmark's fused strategy and a loop would), compared with one kernel into a reused output;
        # fresh outputs as info (8 fresh 2.9 MB outputs pay 8x the first-touch page faults of one).
        bank = [rng.random((4, 4)) for _ in range(8)]
        bank_expected = np.stack([convolve2d(image, k)[::5, ::5] for k in bank])
        case("8 filters: 3000x3000 * 8x 4x4, full, stride 5", "scipy 8x convolve2d+slice",
             lambda: [convolve2d(image, k)[::5, ::5] for k in bank], {"stride": (5, 5), "output": "reused"}, image, bank,
             bank_expected, ">= 100x; bank <= 2.5x one", repeat)
        bank_row = rows[-1]
        one = Ours(tmp, image, bank[0], stride=(5, 5), output="reused")
        many = Ours(tmp, image, bank, stride=(5, 5), output="reused")
        _, _, one_over_bank = side_by_side(one, many, max(repeat, 5))
        one.close()
        many.close()
        bank_row["note"] = (f"ours' bank of 8 costs {1 / one_over_bank:.2f}x ours' one kernel (both into reused outputs, "
                            f"median of interleaved rounds; goal <= 2.5x, not 8x)")
        case("  same, ours into fresh outputs", "scipy 8x convolve2d+slice",
             lambda: [convolve2d(image, k)[::5, ::5] for k in bank], {"stride": (5, 5), "output": "fresh"}, image, bank,
             bank_expected, "(info)", 3, "8 fresh outputs per call: their first-touch page faults cost as much as the pass")

        # 1c. The seed's whole experiment: num_cpus filters x 100 iterations of convolve2d(image, f)[::5, ::5]. Per
        # convolution, scipy's serial loop against ours at its best: the fused bank with its rows over every core.
        cpus = os.cpu_count() or 1
        seed_bank = bank[:cpus] if cpus <= len(bank) else bank + [rng.random((4, 4)) for _ in range(cpus - len(bank))]
        seed_expected = np.stack([convolve2d(image, k)[::5, ::5] for k in seed_bank]) if len(seed_bank) > 1 else bank_expected[0]
        ours_bank = seed_bank if len(seed_bank) > 1 else seed_bank[0]
        theirs_one = Python(lambda: [convolve2d(image, k)[::5, ::5] for k in seed_bank])
        ours_best = Ours(tmp, image, ours_bank, stride=(5, 5), output="reused", threads=cpus)
        t, o, ratio = side_by_side(theirs_one, ours_best, repeat)
        rows.append({"case": f"seed experiment, per convolution ({cpus} filters)", "baseline": "scipy serial loop",
                     "baseline_s": t / len(seed_bank), "ours_method": ours_best.meta["method"], "ours_s": o / len(seed_bank),
                     "speedup": ratio, "goal": ">= 200x", "rel_err": rel_err(seed_expected, ours_best.close()),
                     "reason": ours_best.meta["reason"],
                     "note": f"ours: the fused bank of {cpus} filters, threads={cpus} (the benchmark's fused strategy without the service); "
                             "scipy: its serial loop, one convolve2d per filter"})
        del image, expected, bank_expected, seed_expected

        # 2b. The same two cases through the service's own benchmark (serial strategy: the job's kernel with its fused
        # checksum, into a reused output), against the kernel alone into a reused output and the peers, in this run.
        if args.service:
            by_name = {}
            for x in rows:
                by_name.setdefault(x["case"], x)  # the first row of a case name: full resolution vs OpenCV, not vs scipy
            # The seed's default experiment through the service, every default strategy: its best per convolution vs scipy's loop.
            report = service_benchmark(args.service, {"strategies": ["serial", "parallel", "fused", "hangfire"], "iterations": 20,
                                                      "repetitions": 3})
            best = min(report["results"], key=lambda r: r["wallMs"]["median"] / r["convolutions"])
            best_s = best["wallMs"]["median"] / best["convolutions"] / 1e3
            loop = by_name["seed experiment, per convolution (%d filters)" % (os.cpu_count() or 1)]["baseline_s"]
            rows.append({"case": "service /benchmarks, seed experiment", "baseline": "scipy serial loop", "baseline_s": loop,
                         "ours_method": report["method"], "ours_s": best_s, "speedup": loop / best_s, "goal": ">= 200x",
                         "rel_err": None, "reason": report["methodReason"],
                         "note": "best strategy " + best["strategy"] + "; per strategy (ms per convolution, wall): " + ", ".join(
                             f"{r['strategy']} {r['wallMs']['median'] / r['convolutions']:.2f}" for r in report["results"]) +
                             f"; resultsAgree {report['resultsAgree']}; 20 iterations"})
            for label, stride, iterations, kernel_row, peer_row, goal_kernel, goal_peer in [
                    ("tutorial", 5, 20, "  same, ours into a reused output", "3000x3000 * 4x4, full, stride 5 (tutorial)", 1.15, 50),
                    ("full resolution", 1, 5, "  same, both into a reused output", "3000x3000 * 4x4, full, stride 1", 1.3, 2.5)]:
                report = service_benchmark(args.service, {
                    "image": {"shape": [3000, 3000], "fill": "uniform", "seed": 1}, "kernel": {"shape": [4, 4], "count": 1},
                    "iterations": iterations, "stride": stride, "method": "direct", "strategies": ["serial"], "repetitions": 3})
                serial = report["results"][0]
                per_conv = serial["perConvolutionMs"]["median"] / 1e3
                wall_per_conv = serial["wallMs"]["median"] / serial["convolutions"] / 1e3
                kernel_s = by_name[kernel_row]["ours_s"]
                peer = by_name[peer_row]
                rows.append({"case": f"service /benchmarks serial, {label}", "baseline": "ours, kernel alone (reused output)",
                             "baseline_s": kernel_s, "ours_method": "direct", "ours_s": per_conv, "speedup": kernel_s / per_conv,
                             "goal": f"service <= {goal_kernel}x kernel", "rel_err": None, "reason": report["methodReason"],
                             "note": f"service {per_conv / kernel_s:.2f}x the kernel's time; wall per convolution "
                                     f"{wall_per_conv * 1e3:.2f} ms; {peer['baseline']} {peer['baseline_s'] / per_conv:.1f}x slower "
                                     f"than the service (goal >= {goal_peer}x); build {report['environment']['build']}; "
                                     f"warnings: {report['warnings'] or 'none'}"})

        # 3. Large kernel: 2000x2000 * 65x65, full: auto (and forced fft/direct) against fftconvolve.
        image = rng.random((2000, 2000))
        kernel = rng.random((65, 65))
        expected = fftconvolve(image, kernel)
        case("2000x2000 * 65x65, full, auto", "scipy fftconvolve", lambda: fftconvolve(image, kernel),
             {}, image, kernel, expected, "ours <= 2x slower (>= 0.5x)", repeat)
        case("2000x2000 * 65x65, full, fft", "scipy fftconvolve", lambda: fftconvolve(image, kernel),
             {"method": "fft"}, image, kernel, expected, "(info)", repeat)
        if args.with_direct:
            case("2000x2000 * 65x65, full, direct", "scipy fftconvolve", lambda: fftconvolve(image, kernel),
                 {"method": "direct"}, image, kernel, expected, "(info)", 3)
        del image, expected

        # 4. Small: 32x32 * 3x3, same.
        image = rng.random((32, 32))
        kernel = rng.random((3, 3))
        expected = convolve2d(image, kernel, mode="same")
        case("32x32 * 3x3, same", "scipy convolve2d", lambda: convolve2d(image, kernel, mode="same"),
             {"mode": "same"}, image, kernel, expected, "(µs per call)", repeat)

    print(f"scipy {scipy.__version__}, numpy {np.__version__}, OpenCV {cv2.__version__}, one thread each; "
          f"{repeat} interleaved rounds per case; load average {load_start} at start, {loadavg()} at end")
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
