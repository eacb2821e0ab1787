package sc.fiji.sd.cli;

import java.util.function.Supplier;

import sc.fiji.sd.hub.HubEnvironment;

/** Where the command line finds the hub and its cache: the process environment (tests point it at a local server). */
final class HubOptions {

	static volatile Supplier<HubEnvironment> environment = HubEnvironment::fromSystem;

	private HubOptions() {}

	static HubEnvironment environment() {
		return environment.get();
	}
}
