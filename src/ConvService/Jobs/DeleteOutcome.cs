namespace ConvService.Jobs;

/// <summary>What DELETE did to a job.</summary>
public enum DeleteOutcome
{
    /// <summary>No such job.</summary>
    NotFound,
    /// <summary>It was queued or running and is now cancelled.</summary>
    Cancelled,
    /// <summary>It had finished; it and its result are gone.</summary>
    Deleted,
}
