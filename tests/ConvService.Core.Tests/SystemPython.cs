using System.Collections.Concurrent;
using System.Diagnostics;

namespace ConvService.Core.Tests;

/// <summary>Debian's /usr/bin/python3, for the interop tests that have numpy or astropy read what we wrote.</summary>
internal static class SystemPython
{
    public const string Path = "/usr/bin/python3";

    private static readonly ConcurrentDictionary<string, bool> Modules = new();

    /// <summary>True when the interpreter exists and imports <paramref name="module"/>.</summary>
    public static bool Has(string module) => Modules.GetOrAdd(module, m =>
    {
        if (!File.Exists(Path)) return false;
        try
        {
            Run($"import {m}");
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    });

    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/>; returns stdout, throws on a non-zero exit.</summary>
    public static string Run(string script, params string[] args)
    {
        var psi = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("python did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new InvalidOperationException("python timed out");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"python failed ({process.ExitCode}): {stderr.Result}");
        return stdout;
    }
}
