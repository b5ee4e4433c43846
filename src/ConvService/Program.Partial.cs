/// <summary>Exposed so WebApplicationFactory&lt;Program&gt; can host the service in tests.</summary>
public partial class Program;
