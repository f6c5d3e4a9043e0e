// Test-only: what the generated stand-ins of the Windows commands do (test/support/jea/stand-ins.ts
// declares their parameters from the Windows Server 2016 inventory). The service cmdlets work on a
// fake service table and resolve -Name the way Windows does (wildcards against service names; a
// plain name also matches a display name) and refuse to stop a service with running dependents
// unless -Force. Every other command echoes what it was given: "Name Key=Value;Key=Value".
using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace ArsJeaStandIn
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
        static readonly List<FakeService> Seeds = new List<FakeService>();

        /// <summary>A service of the table as every run starts with it: running.</summary>
        public static void Seed(string name, string displayName, string[] dependents)
        {
            Seeds.Add(new FakeService { Name = name, DisplayName = displayName, Status = "Running", DependentServices = dependents ?? new string[0] });
            Reset();
        }

        public static void Reset()
        {
            Services.Clear();
            Actions.Clear();
            foreach (var seed in Seeds)
            {
                Services.Add(new FakeService { Name = seed.Name, DisplayName = seed.DisplayName, Status = "Running", DependentServices = seed.DependentServices });
            }
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

    public static class Behavior
    {
        /// <summary>What a generated cmdlet does with its bound parameters.</summary>
        public static void Run(PSCmdlet cmdlet, string name)
        {
            var bound = cmdlet.MyInvocation.BoundParameters;
            switch (name)
            {
                case "Get-Service": GetService(cmdlet, bound); break;
                case "Start-Service": ChangeService(cmdlet, bound, "Start"); break;
                case "Stop-Service": ChangeService(cmdlet, bound, "Stop"); break;
                case "Restart-Service": ChangeService(cmdlet, bound, "Restart"); break;
                case "Get-Counter": GetCounter(cmdlet, bound); break;
                default: cmdlet.WriteObject(Echo(name, bound)); break;
            }
        }

        public static string Echo(string name, IDictionary<string, object> bound)
        {
            var pairs = new List<string>();
            foreach (var key in bound.Keys.OrderBy(k => k, StringComparer.OrdinalIgnoreCase))
            {
                var value = bound[key];
                var list = value as IEnumerable;
                pairs.Add(key + "=" + ((list != null && !(value is string)) ? string.Join(",", list.Cast<object>()) : Convert.ToString(value)));
            }
            return name + " " + string.Join(";", pairs);
        }

        static string[] Strings(IDictionary<string, object> bound, string key)
        {
            object value;
            if (!bound.TryGetValue(key, out value) || value == null) return null;
            return LanguagePrimitives.ConvertTo<string[]>(value);
        }

        static IEnumerable<FakeService> Services(IDictionary<string, object> bound)
        {
            object value;
            if (!bound.TryGetValue("InputObject", out value) || value == null) return Enumerable.Empty<FakeService>();
            var items = value is IEnumerable && !(value is string) ? ((IEnumerable)value).Cast<object>() : new[] { value };
            return items.SelectMany(item =>
            {
                var bare = item is PSObject ? ((PSObject)item).BaseObject : item;
                var service = bare as FakeService;
                return service != null ? new[] { service } : ServiceTable.Resolve(Convert.ToString(bare));
            }).ToList();
        }

        static IEnumerable<FakeService> Filter(IEnumerable<FakeService> found, IDictionary<string, object> bound)
        {
            var include = Strings(bound, "Include");
            var exclude = Strings(bound, "Exclude");
            return found.Where(s => (include == null || include.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(s.Name)))
                && (exclude == null || !exclude.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(s.Name))));
        }

        // Sampling takes SampleInterval x MaxSamples seconds on Windows. The stand-in takes that long,
        // writing one sample per interval and stopping when asked, only when a test sets
        // ARS_STANDIN_COUNTER_WAITS=1 (the channel session tests: streaming and cancel); else it echoes.
        static void GetCounter(PSCmdlet cmdlet, IDictionary<string, object> bound)
        {
            if (Environment.GetEnvironmentVariable("ARS_STANDIN_COUNTER_WAITS") != "1")
            {
                cmdlet.WriteObject(Echo("Get-Counter", bound));
                return;
            }
            var interval = bound.ContainsKey("SampleInterval") ? Convert.ToInt32(bound["SampleInterval"]) : 1;
            var samples = bound.ContainsKey("MaxSamples") ? Convert.ToInt32(bound["MaxSamples"]) : 1;
            for (var i = 1; i <= samples; i++)
            {
                var until = DateTime.UtcNow.AddSeconds(interval);
                while (DateTime.UtcNow < until)
                {
                    if (cmdlet.Stopping) return;
                    System.Threading.Thread.Sleep(20);
                }
                cmdlet.WriteObject("Sample " + i);
            }
        }

        static void GetService(PSCmdlet cmdlet, IDictionary<string, object> bound)
        {
            var names = Strings(bound, "Name");
            var displayNames = Strings(bound, "DisplayName");
            IEnumerable<FakeService> found;
            if (bound.ContainsKey("InputObject")) found = Services(bound);
            else if (displayNames != null)
            {
                var patterns = displayNames.Select(d => new WildcardPattern(d, WildcardOptions.IgnoreCase)).ToList();
                found = ServiceTable.Services.Where(s => patterns.Any(p => p.IsMatch(s.DisplayName)));
            }
            else found = (names ?? new[] { "*" }).SelectMany(ServiceTable.Resolve);
            foreach (var service in Filter(found, bound)) cmdlet.WriteObject(service);
        }

        static void ChangeService(PSCmdlet cmdlet, IDictionary<string, object> bound, string verb)
        {
            var targets = new List<FakeService>(Services(bound));
            foreach (var name in Strings(bound, "DisplayName") ?? new string[0])
            {
                targets.AddRange(ServiceTable.Services.Where(s => string.Equals(s.DisplayName, name, StringComparison.OrdinalIgnoreCase)));
            }
            foreach (var name in Strings(bound, "Name") ?? new string[0])
            {
                var resolved = ServiceTable.Resolve(name).ToList();
                if (resolved.Count == 0)
                {
                    cmdlet.WriteError(new ErrorRecord(new InvalidOperationException("Cannot find any service with service name '" + name + "'."), "NoServiceFoundForGivenName", ErrorCategory.ObjectNotFound, name));
                }
                targets.AddRange(resolved);
            }
            var force = bound.ContainsKey("Force") && ((SwitchParameter)bound["Force"]).IsPresent;
            var passThru = bound.ContainsKey("PassThru") && ((SwitchParameter)bound["PassThru"]).IsPresent;
            foreach (var service in Filter(targets, bound))
            {
                if (verb != "Start" && !force)
                {
                    var running = service.DependentServices.Where(d => ServiceTable.StatusOf(d) == "Running").ToList();
                    if (running.Count > 0)
                    {
                        cmdlet.WriteError(new ErrorRecord(new InvalidOperationException("Cannot stop service '" + service.Name + "' because it has dependent services. It can only be stopped if the Force flag is set."), "ServiceHasDependentServices", ErrorCategory.InvalidOperation, service.Name));
                        continue;
                    }
                }
                if (force)
                {
                    foreach (var dependent in service.DependentServices.SelectMany(ServiceTable.Resolve)) dependent.Status = "Stopped";
                }
                service.Status = verb == "Stop" ? "Stopped" : "Running";
                ServiceTable.Actions.Add(verb + " " + service.Name);
                if (passThru) cmdlet.WriteObject(service);
            }
        }
    }
}
