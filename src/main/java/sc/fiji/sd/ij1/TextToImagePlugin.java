package sc.fiji.sd.ij1;

import ij.plugin.PlugIn;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/** ImageJ 1.x Plugins › Stable Diffusion › Text to Image...: a new image from a prompt. (In Fiji the SciJava command with the same label is used.) */
public class TextToImagePlugin implements PlugIn {

	@Override
	public void run(String arg) {
		Plugins.runCommand(Mode.TEXT_TO_IMAGE);
	}
}
