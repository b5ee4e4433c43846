using System.ComponentModel.DataAnnotations;

namespace ConvService.Options;

/// <summary>
/// <see cref="RangeAttribute"/> whose <see cref="ValidationAttribute.ErrorMessage"/> is kept by the options validator
/// generator. For <c>[Range]</c> itself the generator emits a reflection-free copy that ignores ErrorMessage and
/// DisplayName (dotnet/runtime#123137, open), so start-up errors would name <c>ConvServiceOptions.Limits.X</c> instead
/// of the configuration key to fix; a derived attribute is emitted as written. Back to <c>[Range]</c> once that is fixed.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false)]
public sealed class ConfigRangeAttribute : RangeAttribute
{
    /// <summary>An <see cref="int"/> range.</summary>
    public ConfigRangeAttribute(int minimum, int maximum) : base(minimum, maximum) { }

    /// <summary>A <see cref="double"/> range (also for <see cref="long"/> settings: their bounds fit a double's range).</summary>
    public ConfigRangeAttribute(double minimum, double maximum) : base(minimum, maximum) { }
}
