using BenchmarkDotNet.Running;
using ConvService.Benchmarks;

// `--compare …` times our methods on .npy inputs for bench/compare.py, `--gpu` the GPU method, `--png-probe` the PNG
// decoders; anything else goes to BenchmarkDotNet (e.g. `--filter '*'`).
if (args.Length > 0 && args[0] == "--compare")
    return CompareMode.Run(args[1..]);
if (args.Length > 0 && args[0] == "--gpu")
    return GpuMode.Run(args[1..]);
if (args.Length > 0 && args[0] == "--png-probe")
    return PngProbeMode.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(ConvolutionBenchmarks).Assembly).Run(args);
return 0;
