using Microsoft.Extensions.Options;

namespace ConvService.Options;

/// <summary>
/// The start-up rules for <see cref="ConvServiceOptions.ApiKeys"/>, written by hand: DataAnnotations (and so the
/// options validator generator, <see cref="ConvServiceOptionsValidator"/>) validate a <c>string[]</c> as one value,
/// not element by element, and their messages would name no index. These name the offending entry
/// (<c>ConvService:ApiKeys:2</c>) and never echo the key, since start-up failures end up in logs.
/// </summary>
internal sealed class ApiKeysValidator : IValidateOptions<ConvServiceOptions>
{
    /// <summary>Shortest key accepted: 16 random characters are beyond guessing even without the rate limiter.</summary>
    public const int MinKeyLength = 16;

    /// <summary>Longest key accepted (and checked); longer presented values are refused without hashing them.</summary>
    public const int MaxKeyLength = 256;

    public ValidateOptionsResult Validate(string? name, ConvServiceOptions options)
    {
        List<string>? errors = null;
        var keys = options.ApiKeys ?? [];
        for (int i = 0; i < keys.Length; i++)
        {
            string key = keys[i] ?? "";
            if (key.Length is < MinKeyLength or > MaxKeyLength)
                (errors ??= []).Add($"ConvService:ApiKeys:{i} must be {MinKeyLength} to {MaxKeyLength} characters long (it has {key.Length}).");
            else if (key.Any(c => c is < '!' or > '~'))
                (errors ??= []).Add($"ConvService:ApiKeys:{i} must be printable ASCII without spaces, so it fits an HTTP header unchanged.");
        }
        return errors is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
