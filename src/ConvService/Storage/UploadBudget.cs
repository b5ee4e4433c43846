using System.Collections.Concurrent;
using ConvService.Model;
using ConvService.Options;
using Microsoft.Extensions.Options;

namespace ConvService.Storage;

/// <summary>
/// A per-client budget of decoded bytes uploaded to the array store (<see cref="LimitsOptions.MaxUploadBytesPerClientPerMinute"/>),
/// charged after decoding and before storing. A 3 KB PNG of 5000² one-bit pixels decodes to 200 MB of float64, so
/// without it twelve such uploads flush a 2 GiB store of everyone's arrays in a second; with it one client can
/// replace at most that many bytes of the store a minute (429 + Retry-After beyond), however well its files compress.
/// A token bucket per client: full at first, refilled continuously at the budget per minute.
/// </summary>
public sealed class UploadBudget(IOptions<ConvServiceOptions> options, TimeProvider time)
{
    private sealed class Bucket(double bytes, long stamp)
    {
        public double Bytes = bytes;
        public long Stamp = stamp;
    }

    private const int MaxClients = 10_000; // full buckets are forgotten beyond it: they carry no state
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly long _capacity = options.Value.Limits.MaxUploadBytesPerClientPerMinute;

    /// <summary>Charges <paramref name="bytes"/> to <paramref name="client"/>, or refuses: 413 when they exceed the whole budget, 429 when it is spent for now.</summary>
    public void Charge(string client, long bytes)
    {
        if (_capacity == 0) return;
        if (bytes > _capacity)
            throw RequestRefusedException.TooLarge(
                $"The array decodes to {bytes:N0} bytes, over one client's upload budget of {_capacity:N0} bytes a minute " +
                "(ConvService:Limits:MaxUploadBytesPerClientPerMinute). Send a smaller array.");
        if (_buckets.Count > MaxClients) Forget();
        long now = time.GetTimestamp();
        var bucket = _buckets.GetOrAdd(client, _ => new Bucket(_capacity, now));
        lock (bucket)
        {
            bucket.Bytes = Math.Min(_capacity, bucket.Bytes + _capacity * time.GetElapsedTime(bucket.Stamp, now).TotalMinutes);
            bucket.Stamp = now;
            if (bucket.Bytes < bytes)
                throw RequestRefusedException.Busy("Upload budget spent",
                    $"This client has uploaded its budget of {_capacity:N0} decoded bytes a minute (ConvService:Limits:MaxUploadBytesPerClientPerMinute): " +
                    $"this array needs {bytes:N0}, {bucket.Bytes:N0} are left. The budget keeps one client from flushing the shared array store; retry later.",
                    TimeSpan.FromSeconds(Math.Ceiling(60.0 * (bytes - bucket.Bytes) / _capacity)));
            bucket.Bytes -= bytes;
        }
    }

    private void Forget()
    {
        long now = time.GetTimestamp();
        foreach (var (client, bucket) in _buckets)
            lock (bucket)
                if (bucket.Bytes + _capacity * time.GetElapsedTime(bucket.Stamp, now).TotalMinutes >= _capacity) _buckets.TryRemove(client, out _);
    }
}
