using System.ComponentModel.DataAnnotations;

namespace ConvService.Options;

/// <summary>
/// The one DataAnnotations pass every options check uses. DataAnnotations do not recurse into nested objects, so
/// each section is checked on its own and its errors are named by configuration path.
/// </summary>
internal static class DataAnnotationChecks
{
    /// <summary>Adds "<paramref name="section"/>:Member: message" to <paramref name="errors"/> for each failed attribute.</summary>
    public static void Collect(object target, string section, List<string> errors)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(target, new ValidationContext(target), results, validateAllProperties: true)) return;
        foreach (var result in results)
            errors.Add($"{section}:{string.Join(",", result.MemberNames)}: {result.ErrorMessage}");
    }
}
