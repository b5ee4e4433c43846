namespace ConvService.Options;

/// <summary>Where jobs, arrays and Hangfire's queue live (<c>ConvService:Storage</c>; configuration takes the names, in any case).</summary>
public enum StorageKind
{
    /// <summary>In this process (Hangfire.InMemory): no set-up, one node, lost on restart.</summary>
    InMemory,

    /// <summary>A PostgreSQL database (<c>ConnectionStrings:ConvService</c>) shared by every node.</summary>
    PostgreSql,
}
