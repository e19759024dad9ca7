namespace OrleansLora.Engine.Models;

/// <summary>A model or checkpoint file is unusable; the message names the file (and tensor).</summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string file, string message, Exception? inner = null)
        : base($"{file}: {message}", inner)
    {
        File = file;
    }

    public ModelFormatException(string file, string tensor, string message, Exception? inner = null)
        : base($"{file}: tensor \"{tensor}\": {message}", inner)
    {
        File = file;
        Tensor = tensor;
    }

    public string File { get; }
    public string? Tensor { get; }
}
