namespace OrleansLora.Engine.Files;

/// <summary>A file the engine was asked to read is refused: the message names the file and why.</summary>
public sealed class FileRefusedException(string path, string reason) : IOException($"{path}: {reason}")
{
    public string FilePath { get; } = path;
    public string Reason { get; } = reason;
}
