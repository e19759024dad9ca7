namespace OrleansLora.Engine.Native;

/// <summary>The return codes of native-kernels/include/olora_kernels.h (<c>OLORA_OK</c>, <c>OLORA_E_*</c>).</summary>
internal static class NativeStatus
{
    /// <summary><c>OLORA_OK</c>.</summary>
    public const int Ok = 0;

    /// <summary><c>OLORA_E_IO</c>: a file could not be read or written.</summary>
    public const int IoError = -1;

    /// <summary><c>OLORA_E_FORMAT</c>: not a 64-bit little-endian ELF file, or a malformed one.</summary>
    public const int FormatError = -2;

    /// <summary><c>OLORA_E_ARGUMENT</c>: a null or otherwise invalid argument (for the quantizers: a non-finite weight).</summary>
    public const int InvalidArgument = -3;

    /// <summary>The code's meaning, for error messages.</summary>
    public static string Describe(int rc) => rc switch
    {
        Ok => "ok",
        IoError => "I/O error",
        FormatError => "bad format",
        InvalidArgument => "invalid argument",
        _ => "error",
    };
}
