package sc.fiji.sd.ij1;

import java.util.Arrays;

import ij.IJ;
import ij.Macro;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.imagej.DecoderSettings;
import sc.fiji.sd.imagej.Generators;
import sc.fiji.sd.imagej.ImageJModels;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.imagej.Settings;

/**
 * ImageJ 1.x Plugins › Stable Diffusion › Stable Diffusion Settings...: model folder, device, threads, the LoRA and
 * embeddings folders (shared with
 * the Fiji command through ImageJ's preferences), then a diagnostic in the Log window: the model, the ONNX Runtime
 * providers available and why CUDA is or is not used.
 * <p>
 * Macro: {@code run("Stable Diffusion Settings...", "model=/path/to/model device=cpu threads=4 lora_dir=/path/to/loras
 * embeddings=/path/to/embeddings");} ({@code model=[]} returns to the shipped model, {@code lora_dir=[]} to none);
 * {@code decoder=/path/to/taesd} a tiny decoder for the preview, and {@code tinyfinal} for the final images too.
 */
public class SettingsPlugin implements PlugIn {

	@Override
	public void run(String arg) {
		try {
			Settings old = Settings.load();
			String options = Macro.getOptions();
			if (options != null) {
				String device = Macro.getValue(options, "device", null);
				if (device != null && !Arrays.asList(Settings.DEVICES).contains(device))
					throw new StableDiffusionException("Unknown device \"" + device + "\": choose device=auto, cpu or cuda.");
				String threads = Macro.getValue(options, "threads", null);
				if (threads != null && !threads.matches("\\d+"))
					throw new StableDiffusionException("threads=" + threads + " is not a whole number: use threads=0 "
						+ "(automatic) or a count such as threads=4.");
			}
			GenericDialog gd = new GenericDialog("Stable Diffusion Settings");
			ModelChooser.addModelField(gd, "Model folder", old.modelFolder(), options == null, ModelDownloads.SHIPPED);
			gd.addMessage("Leave the folder empty to use the model shipped with the plugin (tiny-sd-shapes, 64×64);\n"
				+ "a downloaded model can be named by its repository id (org/name).");
			gd.addChoice("Device", Settings.DEVICES, old.device());
			gd.addNumericField("Threads", old.threads(), 0, 4, "0 = automatic");
			// macro keys lora_dir= and embeddings= (a label's first word, lower-cased; "_" shows as a space)
			folderField(gd, "LoRA_dir", old.loraFolder());
			folderField(gd, "Embeddings", old.embeddingsFolder());
			gd.addMessage("<lora:name:0.8> in a prompt applies name.safetensors of the LoRA folder; an embedding's\n"
				+ "file name (without .safetensors) is a word that prompts can use. Empty: none.");
			// the first word of each label is the macro key, as in Fiji's Settings command
			DecoderSettings decoder = DecoderSettings.load();
			if (Dialogs.headless()) gd.addStringField("Decoder (tiny, for the preview; empty: none)", decoder.folder(), 40);
			else gd.addDirectoryField("Decoder (tiny, for the preview; empty: none)", decoder.folder(), 40);
			gd.addCheckbox("Tinyfinal (decode the final images with it too)", decoder.finalImages());
			gd.showDialog();
			if (gd.wasCanceled()) return;
			Settings settings = new Settings(gd.getNextString(), gd.getNextChoice(), (int) gd.getNextNumber(),
				gd.getNextString(), gd.getNextString());
			DecoderSettings decoding = new DecoderSettings(gd.getNextString(), gd.getNextBoolean());
			settings.modelPath(java.nio.file.Path.of("")); // checks a chosen folder exists
			settings.loraPath();
			settings.embeddingsPath();
			decoding.save(); // checks a chosen folder holds a tiny decoder
			settings.save();
			if (!settings.equals(old)) ImageJModels.provider().release();
			IJ.log("Stable Diffusion settings\n" + Generators.describe(ImageJModels.provider(), settings));
		}
		catch (StableDiffusionException e) {
			Plugins.userError(e.getMessage());
		}
		catch (RuntimeException | LinkageError e) {
			if (Macro.MACRO_CANCELED.equals(e.getMessage())) throw e;
			Plugins.internalError(e);
		}
	}

	/** A folder field; a text field in a headless dialog, which has no folder widget (the same macro key). */
	private static void folderField(GenericDialog gd, String label, String current) {
		if (Dialogs.headless()) gd.addStringField(label, current, 30);
		else gd.addDirectoryField(label, current, 30);
	}
}
