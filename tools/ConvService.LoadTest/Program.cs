// Submits N small convolution jobs from C concurrent clients to one or more ConvService nodes, checks every result's
// SHA-256 against the same convolution computed here, and reports lost / wrong / duplicated jobs, throughput and
// latency percentiles. Optionally kills one node (SIGKILL) part-way through and reports how long its jobs took to
// finish elsewhere. Talks only to the URLs it is given (scripts/scale-load.sh gives it 127.0.0.1 ones).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ConvService.Core.Arrays;
using ConvService.Core.Convolution;
using ConvService.Core.Generators;

var options = LoadOptions.Parse(args);
return await new LoadRun(options).RunAsync();

/// <summary>Command-line options.</summary>
internal sealed record LoadOptions(
    string[] Urls, int Jobs, int Concurrency, int Size, int Kernel, bool Poll, int? KillPid, string? KillUrl, int KillAfter,
    TimeSpan JobTimeout, TimeSpan RunTimeout, string Mode = "same", int Stride = 1, bool SharedImage = false, int Batch = 1)
{
    public static LoadOptions Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            map[args[i][2..]] = args[i + 1];
        }
        string Get(string key, string fallback) => map.TryGetValue(key, out var v) ? v : fallback;
        var urls = Get("urls", "http://127.0.0.1:5000").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var url in urls)
            if (new Uri(url).Host is not ("127.0.0.1" or "localhost" or "[::1]"))
                throw new ArgumentException($"{url}: this load tool only talks to loopback addresses.");
        int? killPid = map.TryGetValue("kill-pid", out var pid) ? int.Parse(pid, CultureInfo.InvariantCulture) : null;
        return new LoadOptions(urls,
            int.Parse(Get("jobs", "10000"), CultureInfo.InvariantCulture),
            int.Parse(Get("concurrency", "32"), CultureInfo.InvariantCulture),
            int.Parse(Get("size", "32"), CultureInfo.InvariantCulture),
            int.Parse(Get("kernel", "3"), CultureInfo.InvariantCulture),
            Get("poll", killPid is null ? "false" : "true") == "true",
            killPid, map.GetValueOrDefault("kill-url"),
            int.Parse(Get("kill-after", "3000"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(Get("job-timeout", "180"), CultureInfo.InvariantCulture)),
            TimeSpan.FromSeconds(double.Parse(Get("run-timeout", "900"), CultureInfo.InvariantCulture)),
            // --mode full --stride 5 --size 3000 --kernel 4 --shared-image true is the seed's compute-bound convolution:
            // one image (generated once per node and cached), a different kernel per job.
            Get("mode", "same"), int.Parse(Get("stride", "1"), CultureInfo.InvariantCulture), Get("shared-image", "false") == "true",
            // --batch N: each client sends N jobs per POST /convolutions/batch, then polls each.
            int.Parse(Get("batch", "1"), CultureInfo.InvariantCulture));
    }
}

/// <summary>One load run and its bookkeeping.</summary>
internal sealed class LoadRun(LoadOptions options)
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromSeconds(90),
    };
    private readonly ConcurrentDictionary<string, bool> _dead = new();
    private readonly ConcurrentBag<double> _latenciesMs = new();
    private readonly ConcurrentDictionary<string, int> _perNode = new();
    private readonly ConcurrentDictionary<string, string> _expected = new(); // "method:seed" → sha
    private readonly ConcurrentBag<(string Id, DateTimeOffset AcceptedAt, DateTimeOffset SeenFinishedAt, int Attempts, DateTimeOffset? FinishedAt)> _done = new();
    private readonly CancellationTokenSource _runTimeout = new();
    private int _next, _completed, _accepted, _succeeded, _failed, _wrong, _lost, _rerun, _refusals, _connectionErrors, _ambiguous, _unavailable, _noRetryAfter, _serverErrors;
    private long _killedAtTicks;
    private string? _firstProblem;

    public async Task<int> RunAsync()
    {
        _runTimeout.CancelAfter(options.RunTimeout);
        var kernel = ArrayGenerator.Generate(options.Kernel, options.Kernel, FillKind.Uniform, 1);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(c => Task.Run(() => ClientAsync(c, kernel))));
        double seconds = clock.Elapsed.TotalSeconds;

        var sorted = _latenciesMs.OrderBy(x => x).ToArray();
        double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        long storedJobs = await CountStoredJobsAsync();
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"jobs {options.Jobs} ({options.Size}x{options.Size} * {options.Kernel}x{options.Kernel}, {options.Mode}, stride {options.Stride}), clients {options.Concurrency}, nodes {options.Urls.Length}, mode {(options.Batch > 1 ? $"batches of {options.Batch}+poll" : options.Poll ? "submit+poll" : "submit?wait=60")}");
        report.AppendLine(CultureInfo.InvariantCulture, $"accepted {_accepted}, succeeded {_succeeded}, failed {_failed}, wrong {_wrong}, lost {_lost}, re-run (attempts>1) {_rerun}, stored job records {storedJobs}");
        report.AppendLine(CultureInfo.InvariantCulture, $"refusals retried (429/503) {_refusals} (503: {_unavailable}; 503 without Retry-After: {_noRetryAfter}), other 5xx {_serverErrors}, connection errors retried {_connectionErrors}, ambiguous submissions {_ambiguous}");
        report.AppendLine(CultureInfo.InvariantCulture, $"wall {seconds:F1} s, throughput {_succeeded / seconds:F0} jobs/s, latency p50 {P(0.50):F0} ms, p90 {P(0.90):F0} ms, p99 {P(0.99):F0} ms, max {P(1.0):F0} ms");
        report.AppendLine("per node: " + string.Join(", ", _perNode.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")));
        if (_killedAtTicks != 0)
        {
            var killedAt = new DateTimeOffset(_killedAtTicks, TimeSpan.Zero);
            var before = _done.Where(d => d.AcceptedAt < killedAt && d.SeenFinishedAt > killedAt).ToList();
            var reruns = _done.Where(d => d.Attempts > 1 && d.FinishedAt is not null).ToList();
            report.AppendLine(CultureInfo.InvariantCulture,
                $"killed pid {options.KillPid} after {options.KillAfter} completions; jobs accepted before the kill and unfinished then: {before.Count}, " +
                $"all finished {(before.Count == 0 ? 0 : (before.Max(d => d.SeenFinishedAt) - killedAt).TotalSeconds):F1} s after the kill; " +
                $"re-run jobs: {reruns.Count}, last finished {(reruns.Count == 0 ? 0 : (reruns.Max(d => d.FinishedAt!.Value) - killedAt).TotalSeconds):F1} s after the kill");
        }
        if (_firstProblem is not null) report.AppendLine("first problem: " + _firstProblem);
        Console.Write(report);
        bool ok = _lost == 0 && _wrong == 0 && _failed == 0 && _succeeded == options.Jobs && _serverErrors == 0 && _noRetryAfter == 0
            && (storedJobs < 0 || storedJobs == options.Jobs);
        return ok ? 0 : 1;
    }

    private async Task ClientAsync(int client, ConvService.Core.Arrays.Array2D kernel)
    {
        if (options.Batch > 1)
        {
            await BatchClientAsync(kernel);
            return;
        }
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < options.Jobs && !_runTimeout.IsCancellationRequested)
        {
            var started = Stopwatch.StartNew();
            var (job, acceptedAt) = await SubmitAsync(i, Body(i));
            if (job is null) { Interlocked.Increment(ref _lost); Problem($"job {i}: never accepted"); continue; }
            var final = IsFinished(job.Value) ? job : await PollAsync(job.Value.GetProperty("id").GetString()!);
            double ms = started.Elapsed.TotalMilliseconds;
            if (final is null) { Interlocked.Increment(ref _lost); Problem($"job {i} ({job.Value.GetProperty("id").GetString()}): not finished or gone"); continue; }
            Record(i, final.Value, kernel, ms, acceptedAt);
            int done = Interlocked.Increment(ref _completed);
            if (options.KillPid is { } pid && done == options.KillAfter) Kill(pid);
        }
    }

    private string Body(int i)
    {
        var (imageSeed, kernelSeed) = Seeds(i);
        return $$$"""{"image": {"generate": {"shape": [{{{options.Size}}}, {{{options.Size}}}], "fill": "normal", "seed": {{{imageSeed}}}}}, "kernel": {"generate": {"shape": [{{{options.Kernel}}}, {{{options.Kernel}}}], "fill": "uniform", "seed": {{{kernelSeed}}}}}, "mode": "{{{options.Mode}}}", "stride": [{{{options.Stride}}}, {{{options.Stride}}}]}""";
    }

    /// <summary>Sends jobs options.Batch at a time through POST /convolutions/batch and polls each accepted one.</summary>
    private async Task BatchClientAsync(ConvService.Core.Arrays.Array2D kernel)
    {
        int start;
        while ((start = Interlocked.Add(ref _next, options.Batch) - options.Batch) < options.Jobs && !_runTimeout.IsCancellationRequested)
        {
            var started = Stopwatch.StartNew();
            int end = Math.Min(start + options.Batch, options.Jobs);
            string body = "{\"jobs\": [" + string.Join(", ", Enumerable.Range(start, end - start).Select(Body)) + "]}";
            var (response, acceptedAt) = await SubmitAsync(start, body, "/convolutions/batch");
            if (response is null) { Interlocked.Add(ref _lost, end - start); Problem($"batch at {start}: never accepted"); continue; }
            var items = response.Value.GetProperty("items").EnumerateArray().ToList();
            Interlocked.Add(ref _accepted, response.Value.GetProperty("accepted").GetInt32() - 1); // SubmitAsync counted the batch as one
            for (int k = 0; k < items.Count; k++)
            {
                int i = start + k;
                if (items[k].GetProperty("outcome").GetString() != "accepted") { Interlocked.Increment(ref _lost); Problem($"job {i}: refused in its batch: {items[k]}"); continue; }
                var final = await PollAsync(items[k].GetProperty("id").GetString()!);
                if (final is null) { Interlocked.Increment(ref _lost); Problem($"job {i}: not finished or gone"); continue; }
                Record(i, final.Value, kernel, started.Elapsed.TotalMilliseconds, acceptedAt);
                Interlocked.Increment(ref _completed);
            }
        }
    }

    /// <summary>Job i's image and kernel seeds: its own image and one shared kernel, or (shared image) one image and its own kernel.</summary>
    private (int Image, int Kernel) Seeds(int i) => options.SharedImage ? (1, i + 2) : (i, 1);

    private void Record(int seed, JsonElement job, ConvService.Core.Arrays.Array2D kernel, double ms, DateTimeOffset acceptedAt)
    {
        string status = job.GetProperty("status").GetString()!;
        int attempts = job.GetProperty("attempts").GetInt32();
        if (attempts > 1) Interlocked.Increment(ref _rerun);
        _perNode.AddOrUpdate(job.GetProperty("node").GetString() ?? "?", 1, (_, n) => n + 1);
        DateTimeOffset? finishedAt = job.GetProperty("finishedAt").ValueKind == JsonValueKind.String ? job.GetProperty("finishedAt").GetDateTimeOffset() : null;
        _done.Add((job.GetProperty("id").GetString()!, acceptedAt, DateTimeOffset.UtcNow, attempts, finishedAt));
        if (status != "succeeded") { Interlocked.Increment(ref _failed); Problem($"job {seed}: {status}: {job.GetProperty("error")}"); return; }
        Interlocked.Increment(ref _succeeded);
        _latenciesMs.Add(ms);
        string method = job.GetProperty("method").GetString()!;
        var (imageSeed, kernelSeed) = Seeds(seed);
        // The service's result checksum (ResultDigest), of the same convolution computed here.
        string expected = _expected.GetOrAdd($"{method}:{seed}", _ => ResultDigest.Of(Convolver.Convolve2D(
            options.SharedImage ? SharedImage : ArrayGenerator.Generate(options.Size, options.Size, FillKind.Normal, imageSeed),
            options.SharedImage ? ArrayGenerator.Generate(options.Kernel, options.Kernel, FillKind.Uniform, kernelSeed) : kernel,
            new ConvolutionOptions(Mode: Enum.Parse<ConvolutionMode>(options.Mode, ignoreCase: true), StrideY: options.Stride, StrideX: options.Stride,
                Method: Enum.Parse<ConvolutionMethod>(method, ignoreCase: true)))).Checksum);
        if (job.GetProperty("result").GetProperty("checksum").GetString() != expected)
        {
            Interlocked.Increment(ref _wrong);
            Problem($"job {seed}: checksum {job.GetProperty("result").GetProperty("checksum")} but expected {expected}");
        }
    }

    private ConvService.Core.Arrays.Array2D SharedImage => _sharedImage ??= ArrayGenerator.Generate(options.Size, options.Size, FillKind.Normal, 1);
    private ConvService.Core.Arrays.Array2D? _sharedImage;

    private async Task<(JsonElement? Job, DateTimeOffset AcceptedAt)> SubmitAsync(int seed, string body, string? path = null)
    {
        var deadline = DateTime.UtcNow + options.JobTimeout;
        for (int attempt = 0; DateTime.UtcNow < deadline && !_runTimeout.IsCancellationRequested; attempt++)
        {
            string url = PickUrl(seed + attempt);
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await _http.PostAsync(url + (path ?? (options.Poll ? "/convolutions" : "/convolutions?wait=60")), content, _runTimeout.Token);
                string text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref _accepted);
                    return (JsonDocument.Parse(text).RootElement.Clone(), DateTimeOffset.UtcNow);
                }
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref _refusals);
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable) Interlocked.Increment(ref _unavailable);
                    if (response.Headers.RetryAfter is null) Interlocked.Increment(ref _noRetryAfter);
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
                    continue;
                }
                if ((int)response.StatusCode >= 500) Interlocked.Increment(ref _serverErrors);
                Problem($"job {seed}: {(int)response.StatusCode} {text}");
                return (null, default);
            }
            catch (HttpRequestException e)
            {
                // Refused before sending: not accepted, safe to resend. Broken after sending: maybe accepted (counted).
                Interlocked.Increment(ref _connectionErrors);
                if (e.HttpRequestError != HttpRequestError.ConnectionError) Interlocked.Increment(ref _ambiguous);
                if (_killedAtTicks != 0) _dead[url] = true;
                await Task.Delay(50);
            }
            catch (TaskCanceledException) when (!_runTimeout.IsCancellationRequested)
            {
                Interlocked.Increment(ref _ambiguous);
            }
        }
        return (null, default);
    }

    private async Task<JsonElement?> PollAsync(string id)
    {
        var deadline = DateTime.UtcNow + options.JobTimeout;
        int attempt = 0;
        while (DateTime.UtcNow < deadline && !_runTimeout.IsCancellationRequested)
        {
            string url = PickUrl(attempt++);
            try
            {
                using var response = await _http.GetAsync($"{url}/convolutions/{id}", _runTimeout.Token);
                if (response.StatusCode == HttpStatusCode.NotFound) return null;
                if ((int)response.StatusCode >= 500 && response.StatusCode != HttpStatusCode.ServiceUnavailable) Interlocked.Increment(ref _serverErrors);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is null) Interlocked.Increment(ref _noRetryAfter);
                if (response.IsSuccessStatusCode)
                {
                    var job = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                    if (IsFinished(job)) return job;
                }
            }
            catch (HttpRequestException)
            {
                if (_killedAtTicks != 0) _dead[url] = true;
            }
            await Task.Delay(25);
        }
        return null;
    }

    private async Task<long> CountStoredJobsAsync()
    {
        // Every job record the nodes hold (paged); more than accepted would mean duplicated submissions.
        long count = 0;
        string? after = null;
        try
        {
            do
            {
                using var response = await _http.GetAsync($"{PickUrl(0)}/convolutions?limit=1000" + (after is null ? "" : "&after=" + after));
                var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                count += page.GetProperty("items").GetArrayLength();
                after = page.GetProperty("next").GetString();
            } while (after is not null);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException)
        {
            return -1;
        }
        return count;
    }

    private string PickUrl(int salt)
    {
        for (int k = 0; k < options.Urls.Length; k++)
        {
            string url = options.Urls[(salt + k) % options.Urls.Length];
            if (!_dead.ContainsKey(url)) return url;
        }
        return options.Urls[salt % options.Urls.Length];
    }

    private void Kill(int pid)
    {
        _killedAtTicks = DateTimeOffset.UtcNow.UtcTicks;
        if (options.KillUrl is { } url) _dead[url] = true;
        try { Process.GetProcessById(pid).Kill(entireProcessTree: true); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { Problem($"kill {pid}: {e.Message}"); }
        Console.Error.WriteLine($"killed pid {pid} at {DateTimeOffset.UtcNow:HH:mm:ss.fff} after {options.KillAfter} completed jobs");
    }

    private static bool IsFinished(JsonElement job) => job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";

    private void Problem(string message) => Interlocked.CompareExchange(ref _firstProblem, message, null);
}
