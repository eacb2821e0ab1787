package sc.fiji.sd.ij1;

import ij.plugin.PlugIn;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/** ImageJ 1.x Plugins › Stable Diffusion › Outpaint...: extends the active image's canvas and paints the new area. (In Fiji the SciJava command with the same label is used.) */
public class OutpaintPlugin implements PlugIn {

	@Override
	public void run(String arg) {
		Plugins.runCommand(Mode.INPAINT, true);
	}
}
