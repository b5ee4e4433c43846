namespace ConvService.Model;

/// <summary>Client input quoted back in a refusal, clipped so that a huge value cannot flood the answer or the log.</summary>
public static class Echo
{
    /// <summary><paramref name="value"/> itself, or its first <paramref name="max"/> characters and an ellipsis.</summary>
    public static string Clip(string value, int max) => value.Length <= max ? value : value[..max] + "…";
}
