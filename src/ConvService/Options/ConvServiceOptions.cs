using System.ComponentModel.DataAnnotations;

namespace ConvService.Options;

/// <summary>The <c>ConvService</c> section of appsettings.json. Validated at start-up: a bad file fails the boot.</summary>
public sealed class ConvServiceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "ConvService";

    /// <summary>Hangfire workers for convolution jobs on this node; 0 = one per processor.</summary>
    [Range(0, 1024)]
    public int Workers { get; set; }

    /// <summary>Name stamped on every job this node runs; empty = machine name and process id (<c>host-4242</c>), so two nodes on one host differ.</summary>
    public string NodeName { get; set; } = "";

    /// <summary>Job and array storage: <c>InMemory</c> (default, nothing to install) or <c>PostgreSql</c>.</summary>
    [RegularExpression("^(InMemory|PostgreSql)$", ErrorMessage = "ConvService:Storage must be InMemory or PostgreSql.")]
    public string Storage { get; set; } = "InMemory";

    /// <summary>Let non-local clients open the Hangfire dashboard at /hangfire.</summary>
    public bool DashboardAllowRemote { get; set; }

    /// <summary>
    /// Keep the Hangfire dashboard read-only (the default): no deleting, requeueing or triggering jobs from it. false
    /// makes a local dashboard writable, each change then needing the antiforgery token the dashboard's own pages carry,
    /// so a cross-site form cannot post to it. A remote dashboard (<see cref="DashboardAllowRemote"/>) is always read-only.
    /// </summary>
    public bool DashboardReadOnly { get; set; } = true;

    /// <summary>
    /// API keys accepted in the <c>X-Api-Key</c> header; empty = no keys (mutating endpoints are open). When set, every
    /// POST, PUT, PATCH and DELETE needs one of them (see docs/operations.md).
    /// </summary>
    public string[] ApiKeys { get; set; } = [];

    /// <summary>Per-client rate limits for the API.</summary>
    [Required]
    public RateLimitOptions RateLimits { get; set; } = new();

    /// <summary>Request and job limits.</summary>
    [Required]
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>The effective worker count.</summary>
    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;

    /// <summary>The effective node name: <see cref="NodeName"/>, or the default unique to this process (<see cref="DefaultNodeName"/>).</summary>
    public string EffectiveNodeName => string.IsNullOrWhiteSpace(NodeName) ? DefaultNodeName : NodeName;

    /// <summary>
    /// Machine name and process id: unique among the processes of one host at a time (the machine name alone made two
    /// nodes started on one host indistinguishable in /nodes and on their jobs), and stable for the process's life.
    /// </summary>
    public static string DefaultNodeName { get; } = $"{Environment.MachineName}-{Environment.ProcessId}";
}

/// <summary>Every limit the service enforces; all refusals are 4xx problems that name the limit.</summary>
public sealed class LimitsOptions
{
    /// <summary>Largest request body accepted, in bytes; larger bodies get 413 before they are read.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxRequestBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Most pixels in an image (uploaded, inline or generated).</summary>
    [Range(1, int.MaxValue)]
    public long MaxImagePixels { get; set; } = 25_000_000;

    /// <summary>Most pixels in a kernel.</summary>
    [Range(1, int.MaxValue)]
    public long MaxKernelPixels { get; set; } = 1_000_000;

    /// <summary>Most pixels in a convolution's (strided) output.</summary>
    [Range(1, int.MaxValue)]
    public long MaxOutputPixels { get; set; } = 25_000_000;

    /// <summary>Most multiply–adds one direct or naive convolution may cost (FFT is bounded by the pixel limits).</summary>
    [Range(1, double.MaxValue)]
    public double MaxMultiplyAdds { get; set; } = 2e10;

    /// <summary>Most jobs queued or running on this node at once; more get 429 with Retry-After.</summary>
    [Range(1, int.MaxValue)]
    public int MaxQueuedJobs { get; set; } = 10_000;

    /// <summary>Longest <c>?wait=</c> a request may ask for, in seconds.</summary>
    [Range(0, 3600)]
    public int MaxWaitSeconds { get; set; } = 60;

    /// <summary>Byte budget of the array store (images, kernels, results); LRU-evicts unreferenced arrays beyond it.</summary>
    [Range(1024, long.MaxValue)]
    public long ArrayStoreBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// Memory kept for reusing result buffers the array store did not keep (repeated results, benchmark iterations,
    /// PostgreSQL storage), in bytes; 0 turns reuse off.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long ResultBufferPoolBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// With PostgreSQL storage: bytes of arrays this node keeps after downloading them (least recently used out
    /// first), so jobs sharing an image do not each download it; 0 turns the cache off.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long NodeArrayCacheBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Finished jobs kept for GET; older finished jobs (and their results) are forgotten beyond it.</summary>
    [Range(1, int.MaxValue)]
    public int MaxRetainedJobs { get; set; } = 100_000;

    /// <summary>Largest result served as JSON, in values; larger results must be fetched as .npy.</summary>
    [Range(1, int.MaxValue)]
    public long MaxJsonResultValues { get; set; } = 4_000_000;

    /// <summary>Most compute a benchmark may be estimated to need (all strategies, repetitions and warm-up), in seconds.</summary>
    [Range(1, 1_000_000)]
    public double MaxBenchmarkSeconds { get; set; } = 1800;

    /// <summary>Longest header of one FITS HDU an upload may have, in bytes (2880 = 36 cards); a header without END stops there.</summary>
    [Range(2880, 16 * 1024 * 1024)]
    public int MaxFitsHeaderBytes { get; set; } = 288_000;

    /// <summary>Largest size a gzip-compressed upload (.fits.gz) may inflate to, in bytes.</summary>
    [Range(1024, int.MaxValue)]
    public long MaxInflatedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Memory for the FITS headers kept beside uploaded arrays (in-memory storage), in bytes; least recently used out first.</summary>
    [Range(0, long.MaxValue)]
    public long FitsHeaderStoreBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest page of <c>GET /convolutions</c>.</summary>
    [Range(1, 10_000)]
    public int MaxPageSize { get; set; } = 1000;
}
