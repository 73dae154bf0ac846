namespace ImageJobs.DashScope.Emulator;

/// <summary>A DashScope error answer (<c>{"code","message","request_id"}</c> with an HTTP status) raised while handling a request.</summary>
internal sealed class DashScopeError : Exception
{
    public DashScopeError()
        : this(500, "InternalError", "An internal error has occured, please try again later or contact service support.")
    {
    }

    public DashScopeError(string message)
        : this(400, "InvalidParameter", message)
    {
    }

    public DashScopeError(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 400;
        Code = "InvalidParameter";
    }

    public DashScopeError(int status, string code, string message)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>The DashScope error code, e.g. <c>InvalidParameter</c>.</summary>
    public string Code { get; }

    public static DashScopeError InvalidParameter(string message) => new(400, "InvalidParameter", message);
}
