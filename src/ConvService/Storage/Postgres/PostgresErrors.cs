using System.Net.Sockets;
using Npgsql;

namespace ConvService.Storage.Postgres;

/// <summary>Tells database outages (worth a 503 and a retry) from bugs (a 500).</summary>
public static class PostgresErrors
{
    /// <summary>
    /// True when <paramref name="exception"/> (or an inner one) says the database cannot be used right now:
    /// no connection, connection lost, server shutting down or out of connections, a timeout, or a
    /// serialization failure or deadlock that a retry resolves. Constraint violations and SQL errors are not.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException p:
                    return p.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
                        || p.SqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources (too many connections, disk full)
                        || p.SqlState.StartsWith("57P", StringComparison.Ordinal) // admin/crash shutdown, cannot connect now
                        || p.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                        || p.SqlState is PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.LockNotAvailable;
                case NpgsqlException:
                    return true; // not a server error: the connection could not be opened or was lost, or it timed out
                case TimeoutException or SocketException:
                    return true;
            }
        }
        return false;
    }

    /// <summary>True when the connection itself failed (as opposed to a statement): the pool may hold more like it.</summary>
    public static bool IsConnectionFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException p:
                    return p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("57P", StringComparison.Ordinal);
                case NpgsqlException:
                    return true;
                case SocketException or IOException:
                    return true;
            }
        }
        return false;
    }
}
