package sc.fiji.sd.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.model.MemoryEstimate;
import sc.fiji.sd.onnx.ModelOptimizer;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * {@code optimize --model DIR}: writes the model's optimised-model files now (each in a process of its own), so that
 * no later load waits for them; e.g. once after installing a model, or on a cluster's login node before the jobs.
 */
@Command(name = "optimize", description = "Write the model's optimised-model files now (once per model, ONNX Runtime "
	+ "version and CPU), so that its loads, including the first generation's, read them.")
class OptimizeCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@CommandLine.ParentCommand
	Main main;

	@Mixin
	VerboseOption verbose;

	@Mixin
	ModelOptions modelOptions;

	@Override
	public Integer call() {
		var out = spec.commandLine().getOut();
		RuntimeOptions options = modelOptions.runtimeOptions();
		if (options.optimizedModels() == null) {
			out.println("Optimised model files are off (-Dsd.optimizedModels=off): nothing to write.");
			out.flush();
			return Main.EXIT_OK;
		}
		int before = ModelOptimizer.runs().size();
		var model = main.models().get(modelOptions.folder(), options);
		var runs = ModelOptimizer.runs();
		runs = runs.subList(before, runs.size());
		if (runs.isEmpty()) out.println(model.info().name() + ": every optimised file was already there ("
			+ options.optimizedModels() + ").");
		boolean failed = false;
		for (ModelOptimizer.Run r : runs) {
			if (r.written()) out.printf(Locale.ROOT, "%s: optimised in %.1f s (its process's peak %d MB)%n", r.component(),
				r.seconds(), r.peakBytes() >> 20);
			else out.println(r.component() + ": " + r.failure());
			failed |= !r.written();
		}
		if (verbose.verbose) out.printf(Locale.ROOT, "Cache folder %s; an optimising process needs up to %d MB for this "
			+ "model%n", options.optimizedModels(), MemoryEstimate.optimizerBytes(model.folder()) >> 20);
		out.flush();
		return failed ? Main.EXIT_ERROR : Main.EXIT_OK;
	}
}
