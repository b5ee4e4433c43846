using ConvService.Model;

namespace ConvService.Jobs;

/// <summary>An input checked and of known shape but not stored yet (<see cref="ConvolutionSubmitter.InspectAsync"/>).</summary>
/// <param name="Unstored">Its reference with the shape and source, and an empty id until it is stored.</param>
/// <param name="StoreAsync">Stores (or generates) it and returns its reference; for an arrayId input, the reference as is.</param>
public sealed record PendingInput(ArrayReference Unstored, Func<CancellationToken, Task<ArrayReference>> StoreAsync);
