namespace ConvService.Core.Convolution;

/// <summary>The method <c>Convolver.Plan</c> picked, why, and the cost it expects.</summary>
/// <param name="Method">A concrete method (never <see cref="ConvolutionMethod.Auto"/>).</param>
/// <param name="Reason">Human-readable justification, shown in the job resource.</param>
/// <param name="EstimatedMs">Cost-model estimate for one convolution on one thread, in milliseconds.</param>
public sealed record MethodChoice(ConvolutionMethod Method, string Reason, double EstimatedMs);
