namespace ConvService.Storage;

/// <summary>
/// Metadata kept beside a stored array: the FITS header it was uploaded with, so the array and every result made
/// from it can be served as FITS with the same keywords (WCS above all). A separate interface so the array store's
/// contract stays as it was; an array without metadata simply has none.
/// </summary>
/// <remarks>
/// Arrays are content-addressed: two uploads with the same pixels and different headers share one array id, and the
/// later header replaces the earlier one. Headers are small (ConvService:Limits:MaxFitsHeaderBytes each).
/// </remarks>
public interface IArrayHeaderStore
{
    /// <summary>Records <paramref name="headerText"/> (80-character cards, no END) for array <paramref name="arrayId"/>.</summary>
    ValueTask PutAsync(string arrayId, string headerText, CancellationToken cancellationToken = default);

    /// <summary>The header stored for the array, or null.</summary>
    ValueTask<string?> TryGetAsync(string arrayId, CancellationToken cancellationToken = default);
}
