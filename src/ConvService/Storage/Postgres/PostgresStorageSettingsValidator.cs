using Microsoft.Extensions.Options;

namespace ConvService.Storage.Postgres;

/// <summary>
/// Checks <see cref="PostgresStorageSettings"/> from its DataAnnotations; the options validator source generator
/// writes the body. Called once at registration (the settings are read there, not through IOptions, because they
/// shape the storage that is registered).
/// </summary>
[OptionsValidator]
internal sealed partial class PostgresStorageSettingsValidator : IValidateOptions<PostgresStorageSettings>;
