using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConvService.Model;

/// <summary>Where a job is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobStatus>))]
public enum JobStatus
{
    /// <summary>Accepted and waiting for a worker.</summary>
    Queued,
    /// <summary>A worker is computing it.</summary>
    Running,
    /// <summary>Finished; the result is stored.</summary>
    Succeeded,
    /// <summary>Finished with an error (see <c>error</c>).</summary>
    Failed,
    /// <summary>Cancelled by DELETE before it finished.</summary>
    Cancelled,
}

/// <summary>Status helpers.</summary>
public static class JobStatusExtensions
{
    /// <summary>True for succeeded, failed and cancelled.</summary>
    public static bool IsFinished(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;

    // The words JSON writes (the camelCase enum converter), exactly: "Queued" or "0" is not a status.
    private static readonly FrozenDictionary<string, JobStatus> ByWord =
        Enum.GetValues<JobStatus>().ToFrozenDictionary(s => JsonNamingPolicy.CamelCase.ConvertName(s.ToString()), StringComparer.Ordinal);

    /// <summary>The status named by its wire word (queued, running, succeeded, failed, cancelled).</summary>
    public static bool TryParseWord(string word, out JobStatus status) => ByWord.TryGetValue(word, out status);
}
