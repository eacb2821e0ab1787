package sc.fiji.sd.fiji;

import java.io.File;

import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.imagej.DecoderSettings;
import sc.fiji.sd.imagej.Generators;
import sc.fiji.sd.imagej.Settings;

/**
 * Plugins › Stable Diffusion › Stable Diffusion Settings... in Fiji: the model folder, device, threads, the LoRA and
 * embeddings folders (shared with
 * the ImageJ 1 plugins), and a diagnostic text: the model, the ONNX Runtime providers available and why CUDA is or is
 * not used.
 * <p>
 * Macro: {@code run("Stable Diffusion Settings...", "model=/path/to/model device=cpu threads=4 lora_dir=/path/to/loras
 * embeddings=/path/to/embeddings");} and a tiny decoder for the live preview ({@code decoder=/path/to/taesd}) and, with
 * {@code tinyfinal}, the final images.
 */
@Plugin(type = Command.class, menuPath = "Plugins>Stable Diffusion>Stable Diffusion Settings...",
	initializer = "loadSettings")
public class SettingsCommand extends ContextCommand {

	@Parameter
	private StableDiffusionService sd;

	@Parameter
	private LogService log;

	@Parameter(label = "Model folder (empty: the shipped model)", style = FileWidget.DIRECTORY_STYLE + ","
		+ ModelChooserWidget.SETTINGS_STYLE,
		required = false, persist = false)
	private File model;

	@Parameter(label = "Device", choices = { "auto", "cpu", "cuda" }, persist = false)
	private String device;

	@Parameter(label = "Threads (0 = automatic)", min = "0", persist = false)
	private Integer threads;

	/** Macro key {@code lora_dir}: where {@code <lora:name:weight>} in prompts finds name.safetensors. */
	@Parameter(label = "LoRA folder (for <lora:name:weight> in prompts; empty: none)",
		style = FileWidget.DIRECTORY_STYLE, required = false, persist = false)
	private File lora_dir;

	@Parameter(label = "Embeddings folder (textual inversion; each file name is a word for prompts; empty: none)",
		style = FileWidget.DIRECTORY_STYLE, required = false, persist = false)
	private File embeddings;
	@Parameter(label = "Tiny decoder (live preview; empty: none)", style = FileWidget.DIRECTORY_STYLE,
		required = false, persist = false)
	private File decoder;

	@Parameter(label = "Decode the final images with it too (faster, less detailed)", required = false,
		persist = false)
	private Boolean tinyfinal;

	@Parameter(label = "Stable Diffusion", type = ItemIO.OUTPUT)
	private String diagnostics;

	/** Shows the saved settings in the dialog (for the inputs a caller or macro did not give). */
	protected void loadSettings() {
		Settings s = Settings.load();
		if (device == null) {
			// A caller that gives none of the three means "show me what is saved"; the model may be left empty on
			// purpose (the shipped model), so it is filled only together with the device.
			if (model == null) model = s.embeddedModel() ? null : new File(s.modelFolder());
			device = s.device();
			// likewise the folders: a macro that gives the device but not a folder means no folder
			if (lora_dir == null && !s.loraFolder().isEmpty()) lora_dir = new File(s.loraFolder());
			if (embeddings == null && !s.embeddingsFolder().isEmpty()) embeddings = new File(s.embeddingsFolder());
		}
		if (threads == null) threads = s.threads();
		if (decoder == null && tinyfinal == null) {
			DecoderSettings d = DecoderSettings.load();
			decoder = d.folder().isEmpty() ? null : new File(d.folder());
			tinyfinal = d.finalImages();
		}
	}

	/** After a run every input has a value (the macro recorder skips null ones): the shipped model is an empty path. */
	private void valuesForTheRecorder() {
		if (model == null) model = new File("");
		if (threads == null) threads = 0;
		if (lora_dir == null) lora_dir = new File("");
		if (embeddings == null) embeddings = new File("");
		if (decoder == null) decoder = new File("");
		if (tinyfinal == null) tinyfinal = false;
	}

	@Override
	public void run() {
		valuesForTheRecorder();
		try {
			Settings settings = new Settings(model.getPath(), device, threads, lora_dir.getPath(), embeddings.getPath());
			settings.modelPath(java.nio.file.Path.of("")); // checks a chosen folder exists
			settings.loraPath();
			settings.embeddingsPath();
			new DecoderSettings(decoder.getPath(), tinyfinal).save(); // checks a chosen folder holds a decoder
			sd.apply(settings);
			diagnostics = Generators.describe(sd.models(), settings);
			log.info(diagnostics);
		}
		catch (StableDiffusionException e) {
			CommandSupport.fail(this, log, e.getMessage());
		}
	}
}
