using System.Text.Json;

namespace ImageJobs.Workflow.Durable;

/// <summary>The one serializer configuration both hosts use for inputs, outputs, events and custom status.</summary>
public static class DurableJson
{
    /// <summary>System.Text.Json web defaults (camelCase, case-insensitive reading, numbers from strings). Read-only.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>Serializes a value, or returns <see langword="null"/> for <see langword="null"/>.</summary>
    /// <param name="value">The value.</param>
    public static string? Serialize(object? value) =>
        value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Options);

    /// <summary>Deserializes a value; <see langword="null"/> or empty text gives <c>default</c>.</summary>
    /// <typeparam name="T">The target type.</typeparam>
    /// <param name="json">The JSON text.</param>
    public static T? Deserialize<T>(string? json) =>
        string.IsNullOrEmpty(json) ? default : JsonSerializer.Deserialize<T>(json, Options);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
