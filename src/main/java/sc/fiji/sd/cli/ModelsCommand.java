package sc.fiji.sd.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.hub.DownloadPlan;
import sc.fiji.sd.hub.HubCache;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelCatalog;

@Command(name = "models", description = { "List the usable models: the shipped one, those downloaded into the "
	+ "Hugging Face cache, those in ./models and in the folders given with --folder. Each name or folder works "
	+ "with --model." })
class ModelsCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Mixin
	VerboseOption verbose;

	@Option(names = "--folder", paramLabel = "DIR", description = "Another folder of models (repeatable).")
	List<Path> folders = new ArrayList<>();

	@Override
	public Integer call() {
		PrintWriter out = spec.commandLine().getOut();
		List<Path> where = new ArrayList<>();
		where.add(EmbeddedModel.path());
		where.add(Path.of("models"));
		where.addAll(folders);
		HubCache cache = new HubCache(HubOptions.environment().cache());
		List<ModelCatalog.LocalModel> models = ModelCatalog.discover(cache, where);
		out.println(String.format(Locale.ROOT, "%-44s %-7s %-14s %-9s %9s  %s", "MODEL", "FAMILY", "VARIANT",
			"WEIGHTS", "SIZE", "FOLDER"));
		for (ModelCatalog.LocalModel m : models)
			out.println(String.format(Locale.ROOT, "%-44s %-7s %-14s %-9s %9s  %s", m.name(), m.family(), m.variant(),
				m.weights(), DownloadPlan.humanBytes(m.bytes()), m.folder()));
		if (models.stream().noneMatch(m -> m.repo() != null))
			out.println("(no model in the Hugging Face cache " + cache.root() + "; get one with: stable-diffusion "
				+ "download ORG/NAME)");
		out.flush();
		return Main.EXIT_OK;
	}
}
