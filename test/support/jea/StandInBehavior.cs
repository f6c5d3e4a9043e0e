// Test-only stand-ins for the Windows service cmdlets, compiled by Invoke-JeaProof.ps1 with
// Add-Type so that JEA's VisibleCmdlets restrictions (which wrap cmdlets in proxy functions) are
// exercised on Linux against real [Cmdlet] classes. They work on a fake service table, resolve
// -Name the way Windows does (wildcards against service names; a plain name also matches a display
// name), refuse to stop a service with running dependents unless -Force, and carry the parameters
// the roles must hide (-ComputerName, -Force, -InputObject, -DisplayName) so the tests can show
// that JEA hides them.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace ArsWindowsStandIn
{
    public class FakeService
    {
        public string Name { get; set; }
        public string DisplayName { get; set; }
        public string Status { get; set; }
        public string[] DependentServices { get; set; }
        public override string ToString() { return Name; }
    }

    public static class ServiceTable
    {
        public static readonly List<FakeService> Services = new List<FakeService>();
        /// <summary>What the cmdlets did, in order: "Stop Spooler", "Restart W32Time"...</summary>
        public static readonly List<string> Actions = new List<string>();

        static ServiceTable() { Reset(); }

        public static void Reset()
        {
            Services.Clear();
            Actions.Clear();
            Add("WinRM", "Windows Remote Management (WS-Management)");
            Add("Schedule", "Task Scheduler");
            Add("himds", "Azure Hybrid Instance Metadata Service");
            Add("GCArcService", "Guest Configuration Arc Service");
            Add("ExtensionService", "Guest Configuration Extension service");
            Add("ArcProxy", "Azure Arc Proxy");
            Add("HTTP", "HTTP Service", "WinRM");
            Add("Spooler", "Print Spooler");
            Add("W32Time", "Windows Time");
            Add("Dnscache", "DNS Client");
        }

        static void Add(string name, string displayName, params string[] dependents)
        {
            Services.Add(new FakeService { Name = name, DisplayName = displayName, Status = "Running", DependentServices = dependents });
        }

        public static string StatusOf(string name)
        {
            var service = Services.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
            return service == null ? null : service.Status;
        }

        public static IEnumerable<FakeService> Resolve(string name)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                return Services.Where(s => pattern.IsMatch(s.Name)).ToList();
            }
            return Services.Where(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(s.DisplayName, name, StringComparison.OrdinalIgnoreCase)).ToList();
        }
    }

    [Cmdlet(VerbsCommon.Get, "Service", DefaultParameterSetName = "Default")]
    public class GetServiceCommand : PSCmdlet
    {
        [Parameter(ParameterSetName = "Default", Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("ServiceName")]
        public string[] Name { get; set; }

        [Parameter(ParameterSetName = "DisplayName", Mandatory = true)]
        public string[] DisplayName { get; set; }

        [Parameter(ParameterSetName = "InputObject", ValueFromPipeline = true)]
        public FakeService[] InputObject { get; set; }

        [Parameter] public string[] Include { get; set; }
        [Parameter] public string[] Exclude { get; set; }
        [Parameter] public SwitchParameter DependentServices { get; set; }
        [Parameter] public SwitchParameter RequiredServices { get; set; }
        [Parameter] [Alias("Cn")] public string[] ComputerName { get; set; }

        protected override void ProcessRecord()
        {
            IEnumerable<FakeService> found;
            if (InputObject != null) found = InputObject;
            else if (DisplayName != null)
            {
                var patterns = DisplayName.Select(d => new WildcardPattern(d, WildcardOptions.IgnoreCase)).ToList();
                found = ServiceTable.Services.Where(s => patterns.Any(p => p.IsMatch(s.DisplayName)));
            }
            else found = (Name ?? new[] { "*" }).SelectMany(ServiceTable.Resolve);
            foreach (var service in found) WriteObject(service);
        }
    }

    public abstract class ServiceChangeCommand : PSCmdlet
    {
        [Parameter(ParameterSetName = "Default", Position = 0, Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("ServiceName")]
        public string[] Name { get; set; }

        [Parameter(ParameterSetName = "DisplayName", Mandatory = true)]
        public string[] DisplayName { get; set; }

        [Parameter(ParameterSetName = "InputObject", Position = 0, Mandatory = true, ValueFromPipeline = true)]
        public FakeService[] InputObject { get; set; }

        [Parameter] public SwitchParameter Force { get; set; }
        [Parameter] public SwitchParameter PassThru { get; set; }

        protected abstract string Verb { get; }

        protected override void ProcessRecord()
        {
            var targets = new List<FakeService>();
            if (InputObject != null) targets.AddRange(InputObject);
            foreach (var name in DisplayName ?? new string[0]) targets.AddRange(ServiceTable.Services.Where(s => string.Equals(s.DisplayName, name, StringComparison.OrdinalIgnoreCase)));
            foreach (var name in Name ?? new string[0])
            {
                var resolved = ServiceTable.Resolve(name).ToList();
                if (resolved.Count == 0)
                {
                    WriteError(new ErrorRecord(new InvalidOperationException("Cannot find any service with service name '" + name + "'."), "NoServiceFoundForGivenName", ErrorCategory.ObjectNotFound, name));
                }
                targets.AddRange(resolved);
            }
            foreach (var service in targets)
            {
                if (Verb != "Start" && !Force)
                {
                    var running = service.DependentServices.Where(d => ServiceTable.StatusOf(d) == "Running").ToList();
                    if (running.Count > 0)
                    {
                        WriteError(new ErrorRecord(new InvalidOperationException("Cannot stop service '" + service.Name + "' because it has dependent services. It can only be stopped if the Force flag is set."), "ServiceHasDependentServices", ErrorCategory.InvalidOperation, service.Name));
                        continue;
                    }
                }
                service.Status = Verb == "Stop" ? "Stopped" : "Running";
                ServiceTable.Actions.Add(Verb + " " + service.Name);
                if (PassThru) WriteObject(service);
            }
        }
    }

    [Cmdlet(VerbsLifecycle.Start, "Service", DefaultParameterSetName = "Default")]
    public class StartServiceCommand : ServiceChangeCommand { protected override string Verb { get { return "Start"; } } }

    [Cmdlet(VerbsLifecycle.Stop, "Service", DefaultParameterSetName = "Default")]
    public class StopServiceCommand : ServiceChangeCommand { protected override string Verb { get { return "Stop"; } } }

    [Cmdlet(VerbsLifecycle.Restart, "Service", DefaultParameterSetName = "Default")]
    public class RestartServiceCommand : ServiceChangeCommand { protected override string Verb { get { return "Restart"; } } }
}
