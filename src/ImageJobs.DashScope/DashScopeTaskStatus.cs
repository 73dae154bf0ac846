using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageJobs.DashScope;

/// <summary>
/// The status of a DashScope asynchronous task (<c>output.task_status</c>). An extensible enum: values the service adds
/// later parse into a status with that string value instead of failing.
/// </summary>
[JsonConverter(typeof(DashScopeTaskStatusJsonConverter))]
public readonly struct DashScopeTaskStatus : IEquatable<DashScopeTaskStatus>
{
    private readonly string? _value;

    /// <summary>Creates a status from its wire value (for example <c>PENDING</c>).</summary>
    /// <param name="value">The value DashScope sends. Compared case-insensitively.</param>
    public DashScopeTaskStatus(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
    }

    /// <summary>The task is queued.</summary>
    public static DashScopeTaskStatus Pending { get; } = new("PENDING");

    /// <summary>The task is being processed.</summary>
    public static DashScopeTaskStatus Running { get; } = new("RUNNING");

    /// <summary>The task finished and at least one image succeeded (some images may still have failed).</summary>
    public static DashScopeTaskStatus Succeeded { get; } = new("SUCCEEDED");

    /// <summary>The task failed; the reason is in <see cref="DashScopeTask.Code"/> and <see cref="DashScopeTask.Message"/>.</summary>
    public static DashScopeTaskStatus Failed { get; } = new("FAILED");

    /// <summary>The task was canceled while pending.</summary>
    public static DashScopeTaskStatus Canceled { get; } = new("CANCELED");

    /// <summary>No such task, or it expired (task ids live 24 hours). DashScope answers this with HTTP 200.</summary>
    public static DashScopeTaskStatus Unknown { get; } = new("UNKNOWN");

    /// <summary>The task is suspended (known to the official SDKs; not documented for image models).</summary>
    public static DashScopeTaskStatus Suspended { get; } = new("SUSPENDED");

    /// <summary>The wire value, for example <c>SUCCEEDED</c>; empty for <c>default</c>.</summary>
    public string Value => _value ?? string.Empty;

    /// <summary>
    /// True for statuses after which the task never changes: SUCCEEDED, FAILED, CANCELED and UNKNOWN (the official SDKs
    /// stop waiting on these). Unrecognized values are not terminal.
    /// </summary>
    public bool IsTerminal => this == Succeeded || this == Failed || this == Canceled || this == Unknown;

    /// <summary>True when the value is one of the statuses this library knows.</summary>
    public bool IsKnown =>
        this == Pending || this == Running || IsTerminal || this == Suspended;

    /// <summary>Compares two statuses (case-insensitive).</summary>
    public static bool operator ==(DashScopeTaskStatus left, DashScopeTaskStatus right) => left.Equals(right);

    /// <summary>Compares two statuses (case-insensitive).</summary>
    public static bool operator !=(DashScopeTaskStatus left, DashScopeTaskStatus right) => !left.Equals(right);

    /// <summary>Converts a wire value to a status.</summary>
    public static implicit operator DashScopeTaskStatus(string value) => new(value);

    /// <summary>Converts a wire value to a status (the named alternative of the implicit conversion).</summary>
    /// <param name="value">The value DashScope sends.</param>
    public static DashScopeTaskStatus FromString(string value) => new(value);

    /// <inheritdoc />
    public bool Equals(DashScopeTaskStatus other) => string.Equals(Value, other.Value, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    [EditorBrowsable(EditorBrowsableState.Never)]
    public override bool Equals(object? obj) => obj is DashScopeTaskStatus other && Equals(other);

    /// <inheritdoc />
    [EditorBrowsable(EditorBrowsableState.Never)]
    public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Value);

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>Writes a <see cref="DashScopeTaskStatus"/> as its wire string (for example <c>"SUCCEEDED"</c>) and reads it back.</summary>
public sealed class DashScopeTaskStatusJsonConverter : JsonConverter<DashScopeTaskStatus>
{
    /// <inheritdoc />
    public override DashScopeTaskStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String ? new DashScopeTaskStatus(reader.GetString() ?? string.Empty) : default;

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DashScopeTaskStatus value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value);
    }
}
