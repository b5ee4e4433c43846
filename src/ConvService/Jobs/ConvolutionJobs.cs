using ConvService.Core.Convolution;
using Hangfire.Common;

namespace ConvService.Jobs;

/// <summary>The Hangfire job that runs a recorded convolution job, and the queue it belongs on.</summary>
public static class ConvolutionJobs
{
    /// <summary>
    /// The Hangfire job for record <paramref name="id"/> whose concrete method is <paramref name="method"/>: GPU jobs run through <see cref="ConvolutionJob.RunOnGpuAsync"/> on the gpu queue, every other on convolutions.
    /// </summary>
    public static (Job Job, string Queue) For(string id, ConvolutionMethod method) => method == ConvolutionMethod.Gpu
        ? (Job.FromExpression<ConvolutionJob>(j => j.RunOnGpuAsync(id, CancellationToken.None)), QueueNames.Gpu)
        : (Job.FromExpression<ConvolutionJob>(j => j.RunAsync(id, CancellationToken.None)), QueueNames.Convolutions);
}
