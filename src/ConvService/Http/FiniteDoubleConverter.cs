using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConvService.Http;

/// <summary>
/// Reads JSON numbers as float64, refusing values outside its range (1e400 and -1e400 parse to ±Infinity) with a
/// message that names the limit; writes finite values as usual and NaN/±∞ as <c>null</c>, which JSON has no number
/// for (a result's min, max or mean can be non-finite; array data are written the same way by <see cref="ArrayContentResult"/>).
/// Registered for request bodies and for every JSON response.
/// </summary>
public sealed class FiniteDoubleConverter : JsonConverter<double>
{
    /// <inheritdoc />
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number)
            throw new JsonException(); // no message: the serializer's own wrong-type message, with the path, is mapped later
        double value = reader.GetDouble();
        if (!double.IsFinite(value))
            throw new JsonException("the number is outside the float64 range (about ±1.8e308); send finite numbers.");
        return value;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => WriteValue(writer, value);

    /// <summary>Writes <paramref name="value"/>, or <c>null</c> when it is NaN or ±∞.</summary>
    public static void WriteValue(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
