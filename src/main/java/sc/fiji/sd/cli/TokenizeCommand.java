package sc.fiji.sd.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.Gson;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.text.ClipTokenizer;

/**
 * {@code tokenize --prompt TEXT [--model DIR]}: prints the CLIP token ids of a prompt as one JSON line,
 * {@code {"ids":[start, …, end], "input_ids":[…77…]}}. The prompt is tokenized as is (no emphasis parsing), exactly
 * what the text encoder would see for a plain prompt.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
	description = "Print the CLIP token ids of a prompt as one JSON line: "
		+ "{\"ids\":[start, ..., end], \"input_ids\":[...77...]}.")
public class TokenizeCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Mixin
	VerboseOption verbose;

	@Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The text to tokenize.")
	String prompt;

	@Option(names = "--model", paramLabel = "DIR",
		description = "Diffusers model folder (its tokenizer/ is used). Default: the embedded model.")
	Path model;

	@Override
	public Integer call() {
		ClipTokenizer tokenizer = ClipTokenizer.load(tokenizerFolder());
		int[] ids = tokenizer.encode(prompt);
		Map<String, int[]> json = new LinkedHashMap<>();
		json.put("ids", tokenizer.withSpecialTokens(ids, false));
		json.put("input_ids", tokenizer.inputIds(prompt));
		PrintWriter out = spec.commandLine().getOut();
		out.println(new Gson().toJson(json));
		out.flush();
		return Main.EXIT_OK;
	}

	private Path tokenizerFolder() {
		if (model != null) {
			if (!Files.isDirectory(model)) {
				throw new StableDiffusionException("Model folder not found: " + model.toAbsolutePath()
					+ ". Give --model the folder of a diffusers model (the one containing tokenizer/).");
			}
			Path tokenizer = model.resolve("tokenizer");
			if (Files.isDirectory(tokenizer)) return tokenizer;
			if (Files.isRegularFile(model.resolve("vocab.json"))) return model; // a tokenizer folder itself
			throw new StableDiffusionException("No tokenizer/ folder in " + model.toAbsolutePath()
				+ ". Give --model the folder of a diffusers model (with tokenizer/vocab.json and "
				+ "tokenizer/merges.txt).");
		}
		// The shipped model, from the jar (unpacked to the user's cache) like every other command.
		return EmbeddedModel.path().resolve("tokenizer");
	}
}
