namespace ConvService.Model;

/// <summary>Summary of a job's output.</summary>
/// <param name="Shape">[rows, cols] after stride.</param>
/// <param name="Min">Smallest value (null when empty).</param>
/// <param name="Max">Largest value (null when empty).</param>
/// <param name="Mean">Mean value (null when empty).</param>
/// <param name="Sha256">Always null for results computed by this version: results are no longer hashed with SHA-256 on the
/// job path (it cost as much as the convolution); use <paramref name="Checksum"/>. Results recorded by earlier versions keep theirs.</param>
/// <param name="ArrayId">Id of the result in the array store (usable as an input of another job); derived from the job id.</param>
/// <param name="Checksum">XXH3-128 over shape and data, computed while the convolution writes each band of rows
/// (<c>xxh128:</c> + 32 hex digits; see README "Result ids and checksums"). Equal results have equal checksums.</param>
public sealed record JobResultSummary(int[] Shape, double? Min, double? Max, double? Mean, string? Sha256, string ArrayId, string? Checksum = null);

/// <summary>A worker's time on one job, in milliseconds, stage by stage: what the job path adds to the convolution.</summary>
/// <param name="MarkRunningMs">Recording the job as running (one job-store update).</param>
/// <param name="LoadInputsMs">Fetching image and kernel from the array store.</param>
/// <param name="ConvolveMs">The convolution alone.</param>
/// <param name="SummarizeMs">The result's checksum and statistics: gathered band by band inside the convolution while each band is
/// in cache (timed there), then combined into the summary.</param>
/// <param name="StoreMs">Storing the result (in memory: an index insert, sharing the buffer of an identical computation; PostgreSQL: a copy).</param>
public sealed record JobStages(double MarkRunningMs, double LoadInputsMs, double ConvolveMs, double SummarizeMs, double StoreMs);
