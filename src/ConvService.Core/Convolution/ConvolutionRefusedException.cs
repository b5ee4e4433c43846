namespace ConvService.Core.Convolution;

/// <summary>
/// The inputs describe a convolution that scipy itself refuses (or that cannot be computed:
/// a bad stride, an output too large). The message says what is wrong and how to fix it;
/// the web host maps this to a 422 problem.
/// </summary>
public sealed class ConvolutionRefusedException(string message) : Exception(message);
