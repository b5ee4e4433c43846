using Microsoft.Extensions.Options;

namespace ConvService.Options;

/// <summary>
/// Validates the whole <c>ConvService</c> section at start-up from its DataAnnotations, nested sections included
/// (<see cref="ValidateObjectMembersAttribute"/> on <see cref="ConvServiceOptions.Limits"/>, <see cref="ConvServiceOptions.RateLimits"/>
/// and <see cref="ConvServiceOptions.Gpu"/>). The options validator source generator writes the body: no reflection
/// at boot, and a nested section cannot be forgotten the way a hand-written list of sections could (GpuOptions' own
/// attributes were never checked before).
/// </summary>
[OptionsValidator]
internal sealed partial class ConvServiceOptionsValidator : IValidateOptions<ConvServiceOptions>;
