package sc.fiji.sd.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.onnx.ExecutionProviders;

@Command(name = "info", description = "Show what was detected about a model and where it runs.")
class InfoCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	/** The run, which owns the model provider. */
	@CommandLine.ParentCommand
	Main main;

	@Mixin
	VerboseOption verbose;

	@Mixin
	ModelOptions modelOptions;

	@Override
	public Integer call() {
		var out = spec.commandLine().getOut();
		var m = main.models().get(modelOptions.folder(), modelOptions.runtimeOptions());
		var info = m.info();
		out.print(info.describe());
		out.println(ExecutionProviders.describe());
		if (verbose.verbose) {
			for (var c : new sc.fiji.sd.model.OnnxComponent[] { m.textEncoder(), m.unet(), m.vaeEncoder(), m.vaeDecoder() }) {
				if (c != null) out.println(c.name() + ": " + c.signature());
			}
		}
		out.flush();
		return Main.EXIT_OK;
	}
}
