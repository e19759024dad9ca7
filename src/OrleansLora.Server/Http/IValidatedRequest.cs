namespace OrleansLora.Server.Http;

/// <summary>
/// A request body that checks its own fields (null, range, combinations) right after it is bound, in its wire
/// names; <see cref="RequestBody.ReadAsync{T}"/> calls it, so no handler sees an unchecked body.
/// </summary>
internal interface IValidatedRequest
{
    /// <summary>Throws <see cref="Errors.InvalidRequestException"/> naming the first bad field.</summary>
    void Validate();
}
