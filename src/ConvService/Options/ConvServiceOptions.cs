using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ConvService.Options;

/// <summary>The <c>ConvService</c> section of appsettings.json. Validated at start-up: a bad file fails the boot.</summary>
public sealed class ConvServiceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "ConvService";

    /// <summary>Hangfire workers for convolution jobs on this node; 0 = one per processor.</summary>
    [ConfigRange(0, 1024, ErrorMessage = "ConvService:Workers must be between {1} and {2}.")]
    public int Workers { get; set; }

    /// <summary>Name stamped on every job this node runs; empty = machine name and process id (<c>host-4242</c>), so two nodes on one host differ.</summary>
    public string NodeName { get; set; } = "";

    /// <summary>Job and array storage: <c>InMemory</c> (default, nothing to install) or <c>PostgreSql</c>.</summary>
    [EnumDataType(typeof(StorageKind), ErrorMessage = "ConvService:Storage must be InMemory or PostgreSql.")]
    public StorageKind Storage { get; set; } = StorageKind.InMemory;

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
    [Required(ErrorMessage = "ConvService:RateLimits is required.")]
    [ValidateObjectMembers]
    public RateLimitOptions RateLimits { get; set; } = new();

    /// <summary>The GPU method (<c>method: "gpu"</c>).</summary>
    [Required(ErrorMessage = "ConvService:Gpu is required.")]
    [ValidateObjectMembers]
    public GpuOptions Gpu { get; set; } = new();

    /// <summary>Request and job limits.</summary>
    [Required(ErrorMessage = "ConvService:Limits is required.")]
    [ValidateObjectMembers]
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
    [ConfigRange(1024, long.MaxValue, ErrorMessage = "ConvService:Limits:MaxRequestBytes must be between {1} and {2}.")]
    public long MaxRequestBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Most pixels in an image (uploaded, inline or generated).</summary>
    [ConfigRange(1, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxImagePixels must be between {1} and {2}.")]
    public long MaxImagePixels { get; set; } = 25_000_000;

    /// <summary>Most pixels in a kernel.</summary>
    [ConfigRange(1, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxKernelPixels must be between {1} and {2}.")]
    public long MaxKernelPixels { get; set; } = 1_000_000;

    /// <summary>Most kernels in one filter bank (<c>"kernels": [...]</c> of <c>POST /convolutions</c>).</summary>
    [ConfigRange(1, 4096, ErrorMessage = "ConvService:Limits:MaxBankKernels must be between {1} and {2}.")]
    public int MaxBankKernels { get; set; } = 64;

    /// <summary>Most pixels in a convolution's (strided) output; a filter bank counts every kernel's output.</summary>
    [ConfigRange(1, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxOutputPixels must be between {1} and {2}.")]
    public long MaxOutputPixels { get; set; } = 25_000_000;

    /// <summary>Most multiply–adds one direct or naive convolution may cost (FFT is bounded by <see cref="MaxFftBytes"/>).</summary>
    [ConfigRange(1, double.MaxValue, ErrorMessage = "ConvService:Limits:MaxMultiplyAdds must be between {1} and {2}.")]
    public double MaxMultiplyAdds { get; set; } = 2e10;

    /// <summary>
    /// Most working memory one FFT convolution may allocate (its spectra), in bytes. The transform spans image +
    /// kernel − 1, so a long kernel on a modest image can ask for gigabytes; FFT work grows with the same size, so this
    /// bounds its compute too. Method 'fft' over it is refused (422); 'auto' then runs direct when that fits
    /// <see cref="MaxMultiplyAdds"/>, else refuses.
    /// </summary>
    [ConfigRange(1024, long.MaxValue, ErrorMessage = "ConvService:Limits:MaxFftBytes must be between {1} and {2}.")]
    public long MaxFftBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Most jobs queued or running on this node at once; more get 429 with Retry-After.</summary>
    [ConfigRange(1, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxQueuedJobs must be between {1} and {2}.")]
    public int MaxQueuedJobs { get; set; } = 10_000;

    /// <summary>Most jobs one <c>POST /convolutions/batch</c> may carry; a larger batch is refused whole with 413.</summary>
    [Range(1, 100_000)]
    public int MaxBatchJobs { get; set; } = 1000;

    /// <summary>Longest <c>?wait=</c> a request may ask for, in seconds.</summary>
    [ConfigRange(0, 3600, ErrorMessage = "ConvService:Limits:MaxWaitSeconds must be between {1} and {2}.")]
    public int MaxWaitSeconds { get; set; } = 60;

    /// <summary>Byte budget of the array store (images, kernels, results); LRU-evicts unreferenced arrays beyond it.</summary>
    [ConfigRange(1024, long.MaxValue, ErrorMessage = "ConvService:Limits:ArrayStoreBytes must be between {1} and {2}.")]
    public long ArrayStoreBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// Most of the array store (in-memory storage) that inputs of queued and running work may pin, as a fraction of
    /// <see cref="ArrayStoreBytes"/>; a job or benchmark whose new inputs would pin more gets 429 with Retry-After.
    /// Pinned arrays cannot be evicted, so without it ten large inputs queued behind a long job hold the whole store
    /// and every other upload and result is refused.
    /// </summary>
    [ConfigRange(0.01, 1.0, ErrorMessage = "ConvService:Limits:MaxPinnedFraction must be between {1} and {2}.")]
    public double MaxPinnedFraction { get; set; } = 0.5;

    /// <summary>
    /// Decoded bytes one client (API key, else IP) may upload to POST /arrays a minute; beyond it 429 with Retry-After,
    /// and a single array over it 413. Counts what an upload becomes (8 bytes a pixel), not what was sent, so highly
    /// compressible PNGs cannot flush the store. 0 turns it off.
    /// </summary>
    [ConfigRange(0, long.MaxValue, ErrorMessage = "ConvService:Limits:MaxUploadBytesPerClientPerMinute must be between {1} and {2}.")]
    public long MaxUploadBytesPerClientPerMinute { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Memory kept for reusing result buffers the array store did not keep (repeated results, benchmark iterations,
    /// PostgreSQL storage), in bytes; 0 turns reuse off.
    /// </summary>
    [ConfigRange(0, long.MaxValue, ErrorMessage = "ConvService:Limits:ResultBufferPoolBytes must be between {1} and {2}.")]
    public long ResultBufferPoolBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// With PostgreSQL storage: bytes of arrays this node keeps after downloading them (least recently used out
    /// first), so jobs sharing an image do not each download it; 0 turns the cache off.
    /// </summary>
    [ConfigRange(0, long.MaxValue, ErrorMessage = "ConvService:Limits:NodeArrayCacheBytes must be between {1} and {2}.")]
    public long NodeArrayCacheBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Finished jobs kept for GET; older finished jobs (and their results) are forgotten beyond it.</summary>
    [ConfigRange(1, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxRetainedJobs must be between {1} and {2}.")]
    public int MaxRetainedJobs { get; set; } = 100_000;

    /// <summary>Largest result served as JSON, in values; larger results must be fetched as .npy.</summary>
    [ConfigRange(1, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxJsonResultValues must be between {1} and {2}.")]
    public long MaxJsonResultValues { get; set; } = 4_000_000;

    /// <summary>Most compute a benchmark may be estimated to need (all strategies, repetitions and warm-up), in seconds.</summary>
    [ConfigRange(1, 1_000_000, ErrorMessage = "ConvService:Limits:MaxBenchmarkSeconds must be between {1} and {2}.")]
    public double MaxBenchmarkSeconds { get; set; } = 1800;

    /// <summary>
    /// Worker time one Hangfire job costs besides its convolution (enqueue, fetch, state changes, record updates), in
    /// milliseconds; benchmark budgets add it per job. Measured as the median per-job cost of the hangfire strategy on
    /// 1×1 inputs (≈ 0.4 ms on the 2-vCPU reference VM, docs/operations.md); raise it for slower storage (PostgreSQL).
    /// </summary>
    [ConfigRange(0, 10_000, ErrorMessage = "ConvService:Limits:PerJobOverheadMs must be between {1} and {2}.")]
    public double PerJobOverheadMs { get; set; } = 0.4;

    /// <summary>Most Hangfire jobs one benchmark may enqueue over all its rounds (the hangfire strategy runs one job per convolution).</summary>
    [ConfigRange(1, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxBenchmarkJobs must be between {1} and {2}.")]
    public long MaxBenchmarkJobs { get; set; } = 100_000;

    /// <summary>Most memory one benchmark is estimated to hold (pinned inputs, plus per worker an output and any FFT spectra), in bytes.</summary>
    [ConfigRange(1024, long.MaxValue, ErrorMessage = "ConvService:Limits:MaxBenchmarkBytes must be between {1} and {2}.")]
    public long MaxBenchmarkBytes { get; set; } = 1L * 1024 * 1024 * 1024;

    /// <summary>Most benchmarks queued or running at once; more get 429 with Retry-After (benchmarks run one at a time).</summary>
    [ConfigRange(1, 10_000, ErrorMessage = "ConvService:Limits:MaxQueuedBenchmarks must be between {1} and {2}.")]
    public int MaxQueuedBenchmarks { get; set; } = 2;

    /// <summary>Longest header of one FITS HDU an upload may have, in bytes (2880 = 36 cards); a header without END stops there.</summary>
    [ConfigRange(2880, 16 * 1024 * 1024, ErrorMessage = "ConvService:Limits:MaxFitsHeaderBytes must be between {1} and {2}.")]
    public int MaxFitsHeaderBytes { get; set; } = 288_000;

    /// <summary>Largest size a gzip-compressed upload (.fits.gz) may inflate to, in bytes.</summary>
    [ConfigRange(1024, int.MaxValue, ErrorMessage = "ConvService:Limits:MaxInflatedBytes must be between {1} and {2}.")]
    public long MaxInflatedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Memory for the FITS headers kept beside uploaded arrays (in-memory storage), in bytes; least recently used out first.</summary>
    [ConfigRange(0, long.MaxValue, ErrorMessage = "ConvService:Limits:FitsHeaderStoreBytes must be between {1} and {2}.")]
    public long FitsHeaderStoreBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest page of <c>GET /convolutions</c>.</summary>
    [ConfigRange(1, 10_000, ErrorMessage = "ConvService:Limits:MaxPageSize must be between {1} and {2}.")]
    public int MaxPageSize { get; set; } = 1000;
}

/// <summary>Which accelerator serves <c>method: "gpu"</c> on this node.</summary>
public sealed class GpuOptions
{
    /// <summary>
    /// <c>cuda</c> (default): the first CUDA device, if the node has one (otherwise the node serves no GPU jobs);
    /// <c>cpu</c>: ILGPU's CPU emulation of the same kernels (slow; for tests and development);
    /// <c>none</c>: no GPU method on this node.
    /// </summary>
    [RegularExpression("^(cuda|cpu|none)$", ErrorMessage = "ConvService:Gpu:Device must be cuda, cpu or none.")]
    public string Device { get; set; } = "cuda";

    /// <summary>Device memory kept for resident inputs (an image used by many jobs is copied to the device once), in bytes.</summary>
    [ConfigRange(0, long.MaxValue, ErrorMessage = "ConvService:Gpu:CacheBytes must be between {1} and {2}.")]
    public long CacheBytes { get; set; } = 4L << 30;
}
